import { type Command, Option } from 'commander';
import { privacyCost } from '@fedistill/dp';
import { CliError, output } from '../cli-error';
import { federationCost, type FederationCostOptions, NODE_PRIVACY_DEFAULTS } from './privacy-federation-cost';
import { num, registerPlan } from './privacy-plan.command';

interface CostOptions extends Partial<FederationCostOptions> {
  mechanism?: 'gaussian' | 'skellam' | 'gnmax';
  sigma?: string;
  mu?: string;
  sensitivity?: string;
  releases?: string;
  queries?: string;
}

/** Options of the --mechanism form that the --federation form does not take, and the reverse. */
const MECHANISM_ONLY = ['mechanism', 'sigma', 'mu', 'sensitivity', 'releases'] as const;
const FEDERATION_ONLY = ['evaluations', 'sites', 'assumedColluders', 'epsilonLimit'] as const;
const flagOf = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** `fedistill privacy cost`: the (ε, δ) price of a federation's rounds, or of releases of one mechanism. */
export function registerPrivacyCommand(program: Command): void {
  const privacy = program.command('privacy').description('differential-privacy accounting tools');
  privacy
    .command('cost')
    .description(
      "epsilon before anything runs: with --federation, what each site's ledger charges for a federation's rounds; with --mechanism, of releases of one noise mechanism",
    )
    .option(
      '--federation <file>',
      "a federation definition (YAML or JSON, as `coordinator federation create` reads it): priced round by round with the node ledger's own code",
    )
    .option(
      '--rounds <r>',
      'rounds (with --federation: distillation rounds, default rounds.maxRounds; with --mechanism: default 1)',
    )
    .option('--evaluations <e>', 'with --federation: evaluation rounds after them (default 0)')
    .option('--sites <n>', 'with --federation: sites per round (default rounds.minSites)')
    .option(
      '--assumed-colluders <c>',
      "with --federation: participants the site assumes may collude with the coordinator (node.yaml privacy.assumedColluders); default: node.yaml's default privacy.trust paranoid (only the site's own noise share counts)",
    )
    .option(
      '--epsilon-limit <e>',
      `with --federation: the site's node.yaml privacy.epsilonLimit (default ${NODE_PRIVACY_DEFAULTS.epsilonLimit}): shows which round it would decline`,
    )
    .option(
      '--delta <d>',
      `delta of the (epsilon, delta) guarantee (with --federation: the site's node.yaml privacy.delta, default ${NODE_PRIVACY_DEFAULTS.delta}; required with --mechanism)`,
    )
    .addOption(
      new Option(
        '--mechanism <name>',
        'one noise mechanism, priced by itself (instead of --federation)',
      ).choices(['gaussian', 'skellam', 'gnmax']),
    )
    .option(
      '--sigma <s>',
      'noise standard deviation, in the units of --sensitivity (gaussian, gnmax in votes; skellam: mu = sigma^2 / 2)',
    )
    .option('--mu <m>', 'Skellam parameter: aggregate noise Poisson(mu) - Poisson(mu), variance 2 mu')
    .option(
      '--sensitivity <d>',
      "L2 sensitivity of one release, in the noise's units (default 1). Skellam counts integers: a federation's soft labels at granularity 0.01 have a sensitivity of hundreds of rounding units; --federation computes it",
    )
    .option(
      '--releases <n>',
      'noised releases per round with --mechanism (compositions). A federation round is ONE release of all its queries: use --federation to price one',
    )
    .addOption(new Option('--queries <n>').hideHelp())
    .option('--json', 'print JSON')
    .action((opts: CostOptions) => {
      if (opts.queries !== undefined)
        throw new CliError(
          "--queries is now --releases: the number of noised releases of --mechanism per round (a federation round is one release however many queries it asks; price a federation's rounds with --federation FILE)",
          2,
        );
      if (opts.federation !== undefined) {
        const wrong = MECHANISM_ONLY.filter((k) => opts[k] !== undefined);
        if (wrong.length)
          throw new CliError(
            `${wrong.map(flagOf).join(', ')}: not with --federation (the definition sets the mechanism and its noise)`,
            2,
          );
        federationCost(opts as FederationCostOptions);
        return;
      }
      mechanismCost(opts);
    });
  registerPlan(privacy);
}

function mechanismCost(opts: CostOptions): void {
  const wrong = FEDERATION_ONLY.filter((k) => opts[k] !== undefined);
  if (wrong.length) throw new CliError(`${wrong.map(flagOf).join(', ')}: only with --federation`, 2);
  if (opts.mechanism === undefined)
    throw new CliError('give --federation FILE (a federation definition) or --mechanism NAME', 2);
  if (opts.releases === undefined) throw new CliError('--releases is required with --mechanism', 2);
  if (opts.delta === undefined) throw new CliError('--delta is required with --mechanism', 2);
  const request = {
    mechanism: opts.mechanism,
    sigma: num('sigma', opts.sigma),
    mu: num('mu', opts.mu),
    sensitivity: num('sensitivity', opts.sensitivity),
    queries: num('releases', opts.releases) as number,
    rounds: num('rounds', opts.rounds ?? '1'),
    delta: num('delta', opts.delta) as number,
  };
  let result;
  try {
    result = privacyCost(request);
  } catch (err) {
    // The library names its parameters 'sigma', 'queries', ...: name the CLI options instead.
    if (err instanceof RangeError)
      throw new RangeError(err.message.replace(/'queries'/g, "'releases'").replace(/'(\w+)'/g, '--$1'));
    throw err;
  }
  const { epsilon, order, delta, compositions } = result;
  output(Boolean(opts.json), { mechanism: opts.mechanism, epsilon, delta, order, compositions }, () =>
    [
      `epsilon = ${epsilon.toFixed(6)} at delta = ${delta}`,
      `best Renyi order: ${order}`,
      `${compositions} releases of ${opts.mechanism} (improved RDP conversion, arXiv:2004.00010 Prop. 12)`,
    ].join('\n'),
  );
}
