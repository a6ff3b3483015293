import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { TrustAssumption } from '@fedistill/distill';
import {
  federationSiteCost,
  type FederationSpec,
  parseFederationSpec,
  type SiteCost,
} from '@fedistill/protocol';
import { CliError, output } from '../cli-error';

/** node.yaml's privacy defaults (apps/node node-config.ts): what a site charges with unless it says otherwise. */
export const NODE_PRIVACY_DEFAULTS = { delta: 1e-5, epsilonLimit: 8 } as const;

/** Reads a federation definition file (YAML or JSON) as `coordinator federation create` reads it. */
export function readDefinitionFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`definition ${file} cannot be read`, 2);
  }
  try {
    const value = (parseYaml(text) ?? {}) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('expected a mapping of the definition’s sections');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${file} is not valid YAML or JSON: ${(err as Error).message}`, 2);
  }
}

export interface FederationCostOptions {
  federation: string;
  rounds?: string;
  evaluations?: string;
  sites?: string;
  assumedColluders?: string;
  delta?: string;
  epsilonLimit?: string;
  json?: boolean;
}

/** An integer option, or a RangeError naming it. */
function intOption(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min)
    throw new RangeError(`--${flag} '${value}' must be an integer >= ${min}`);
  return n;
}

function numberOption(flag: string, value: string | undefined, ok: (n: number) => boolean, range: string) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !ok(n))
    throw new RangeError(`--${flag} '${value}' must be a number ${range}`);
  return n;
}

/** The definition as the coordinator validates it (its reference set plays no part in the price). */
function parsedDefinition(file: string): FederationSpec {
  const def = { ...readDefinitionFile(file), referenceSet: { sha256: '0'.repeat(64) } };
  const parsed = parseFederationSpec(def);
  if (!parsed.ok) throw new CliError(`${file}: ${parsed.problems.join('; ')}`, 2);
  if (parsed.spec.privacy.mechanism === 'none')
    throw new CliError(`${file}: privacy.mechanism is 'none': its rounds have no noise and no epsilon`, 2);
  return parsed.spec;
}

/**
 * `fedistill privacy cost --federation FILE`: what each site's ledger will charge for the
 * federation's rounds, computed by the function a node's ledger charges with (libs/protocol
 * federationSiteCost → priceRound), under the site's own trust assumption.
 */
export function federationCost(opts: FederationCostOptions): void {
  const spec = parsedDefinition(opts.federation);
  const colluders = intOption('assumed-colluders', opts.assumedColluders, 0);
  const trust: TrustAssumption =
    colluders === undefined ? { kind: 'paranoid' } : { kind: 'colluders', colluders };
  const o = {
    rounds: intOption('rounds', opts.rounds, 1) ?? spec.rounds.maxRounds,
    evaluations: intOption('evaluations', opts.evaluations, 0) ?? 0,
    sites: intOption('sites', opts.sites, 1) ?? spec.rounds.minSites,
    trust,
    delta:
      numberOption('delta', opts.delta, (d) => d > 0 && d < 1, 'in (0, 1)') ?? NODE_PRIVACY_DEFAULTS.delta,
    epsilonLimit:
      numberOption('epsilon-limit', opts.epsilonLimit, (e) => e > 0, '> 0') ??
      NODE_PRIVACY_DEFAULTS.epsilonLimit,
  };
  const cost = federationSiteCost(spec, o);
  output(
    Boolean(opts.json),
    {
      federation: spec.id,
      mechanism: spec.privacy.mechanism,
      summary: spec.privacy.summary,
      queriesPerRound: spec.rounds.queriesPerRound,
      sites: o.sites,
      trust,
      epsilonLimit: o.epsilonLimit,
      ...cost,
    },
    () => renderCost(spec, o, cost),
  );
}

function renderCost(
  spec: FederationSpec,
  o: { rounds: number; evaluations: number; sites: number; epsilonLimit: number },
  cost: SiteCost,
): string {
  const evaluations = o.evaluations ? ` and ${o.evaluations} evaluation round(s)` : '';
  const decline =
    cost.firstDeclined === null
      ? `a site with epsilonLimit ${o.epsilonLimit} answers every one of these rounds`
      : `a site with epsilonLimit ${o.epsilonLimit} declines round ${cost.firstDeclined} and every later one (its ledger refuses to pass the limit)`;
  return [
    `each site's ledger charges epsilon ${cost.epsilon.toFixed(4)} at delta ${cost.delta} for ${o.rounds} round(s)${evaluations} of federation '${spec.id}'`,
    `rounds of ${o.sites} sites, ${spec.privacy.summary === 'class-sums' ? 'class sums (no queries)' : `${spec.rounds.queriesPerRound} queries each`} (${spec.privacy.mechanism}, ${spec.privacy.summary}); one round is one release, however many queries it asks`,
    `the site's trust: ${cost.assumption} (node.yaml privacy.trust / privacy.assumedColluders)`,
    decline,
    '',
    '| round | kind | epsilon of the round | site total after it | answered |',
    '|---|---|---|---|---|',
    ...cost.rounds.map(
      (r) =>
        `| ${r.round} | ${r.kind} | ${r.epsilon.toFixed(4)} | ${r.epsilonTotal.toFixed(4)} | ${r.answered ? 'yes' : 'declined'} |`,
    ),
  ].join('\n');
}
