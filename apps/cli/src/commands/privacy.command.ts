import { type Command, Option } from 'commander';
import { privacyCost } from '@fedistill/dp';
import { output } from '../cli-error';

interface CostOptions {
  mechanism: 'gaussian' | 'skellam' | 'gnmax';
  sigma?: string;
  mu?: string;
  sensitivity?: string;
  queries: string;
  rounds: string;
  delta: string;
  json?: boolean;
}

/** Parses a finite number, or throws a RangeError naming the option. */
function num(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new RangeError(`--${option} '${value}' must be a number`);
  return n;
}

/** `fedistill privacy cost`: the (ε, δ) price of a schedule of releases, before it happens. */
export function registerPrivacyCommand(program: Command): void {
  const privacy = program.command('privacy').description('differential-privacy accounting tools');
  privacy
    .command('cost')
    .description('epsilon and the best Renyi order of queries x rounds releases of one mechanism')
    .addOption(
      new Option('--mechanism <name>', 'noise mechanism')
        .choices(['gaussian', 'skellam', 'gnmax'])
        .makeOptionMandatory(),
    )
    .option('--sigma <s>', 'noise standard deviation (gaussian, gnmax; skellam: mu = sigma^2 / 2)')
    .option('--mu <m>', 'Skellam parameter: aggregate noise Poisson(mu) - Poisson(mu), variance 2 mu')
    .option('--sensitivity <d>', 'L2 sensitivity of one query (gaussian, skellam; default 1)')
    .requiredOption('--queries <n>', 'queries per round')
    .option('--rounds <r>', 'rounds', '1')
    .requiredOption('--delta <d>', 'delta of the (epsilon, delta) guarantee')
    .option('--json', 'print JSON')
    .action((opts: CostOptions) => {
      const request = {
        mechanism: opts.mechanism,
        sigma: num('sigma', opts.sigma),
        mu: num('mu', opts.mu),
        sensitivity: num('sensitivity', opts.sensitivity),
        queries: num('queries', opts.queries) as number,
        rounds: num('rounds', opts.rounds),
        delta: num('delta', opts.delta) as number,
      };
      let result;
      try {
        result = privacyCost(request);
      } catch (err) {
        // The library names its parameters 'sigma', 'queries', ...: name the CLI options instead.
        if (err instanceof RangeError) throw new RangeError(err.message.replace(/'(\w+)'/g, '--$1'));
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
    });
}
