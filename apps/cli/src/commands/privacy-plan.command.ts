import { type Command, Option } from 'commander';
import {
  evaluationRoundCap,
  type FederationSpec,
  type NoisePlan,
  parseFederationSpec,
  planNoise,
} from '@fedistill/protocol';
import { CliError, output } from '../cli-error';
import { readDefinitionFile } from './privacy-federation-cost';

/** Parses a finite number, or throws a RangeError naming the option. */
export function num(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new RangeError(`--${option} '${value}' must be a number`);
  return n;
}

interface PlanOptions {
  file?: string;
  targetEpsilon?: string;
  delta?: string;
  rounds?: string;
  queries?: string;
  classes?: string;
  sites?: string;
  summary?: string;
  mechanism?: string;
  json?: boolean;
}

/** Flags of `privacy plan` and the definition fields they set. */
const PLAN_FLAGS: ReadonlyArray<[keyof PlanOptions, string, readonly string[]]> = [
  ['targetEpsilon', 'target-epsilon', ['privacy', 'targetEpsilon']],
  ['delta', 'delta', ['privacy', 'delta']],
  ['rounds', 'rounds', ['rounds', 'maxRounds']],
  ['queries', 'queries', ['rounds', 'queriesPerRound']],
  ['sites', 'sites', ['rounds', 'minSites']],
];

/**
 * The definition `privacy plan` prices: the file's (read as `coordinator federation create`
 * reads it), or a minimal one from the flags; flags override the file's fields.
 */
function planDefinition(opts: PlanOptions): Record<string, unknown> {
  let def: Record<string, unknown> = {};
  if (opts.file !== undefined) {
    def = readDefinitionFile(opts.file);
  } else {
    if (opts.targetEpsilon === undefined)
      throw new CliError('--target-epsilon is required without --file', 2);
    if (opts.classes === undefined) throw new CliError('--classes is required without --file', 2);
    def = { id: 'plan', input: { shape: [1] }, student: { architecture: 'mlp' }, privacy: {}, rounds: {} };
  }
  // The reference set plays no part in the noise: a file naming one to upload is priced as is.
  def = { ...def, referenceSet: { sha256: '0'.repeat(64) } };
  const section = (name: string) => ({ ...((def[name] as Record<string, unknown> | undefined) ?? {}) });
  const privacy = section('privacy');
  const rounds = section('rounds');
  for (const [key, flag, [where, field]] of PLAN_FLAGS) {
    const v = num(flag, opts[key] as string | undefined);
    if (v !== undefined) (where === 'privacy' ? privacy : rounds)[field as string] = v;
  }
  if (opts.targetEpsilon !== undefined) delete privacy.noiseMultiplier;
  if (opts.summary !== undefined) privacy.summary = opts.summary;
  if (opts.mechanism !== undefined) privacy.mechanism = opts.mechanism;
  else if (privacy.mechanism === undefined) privacy.mechanism = 'skellam';
  const classes = num('classes', opts.classes);
  if (classes !== undefined) {
    if (!Number.isInteger(classes) || classes < 2 || classes > 1000)
      throw new RangeError(`--classes '${opts.classes}' must be an integer in [2, 1000]`);
    def.labels = Array.from({ length: classes }, (_, i) => `class-${i}`);
  }
  return { ...def, privacy, rounds };
}

/** Field names in parse problems, as the flags that set them where a flag did. */
function flagged(problem: string, opts: PlanOptions): string {
  for (const [key, flag, path] of PLAN_FLAGS)
    if (opts[key] !== undefined && problem.startsWith(`${path.join('.')}:`)) return `--${flag} (${problem})`;
  return problem;
}

function parsedPlanSpec(opts: PlanOptions): FederationSpec {
  const parsed = parseFederationSpec(planDefinition(opts));
  if (!parsed.ok)
    throw new CliError(`cannot plan: ${parsed.problems.map((p) => flagged(p, opts)).join('; ')}`, 2);
  if (parsed.spec.privacy.mechanism === 'none')
    throw new CliError("cannot plan: privacy.mechanism is 'none' (no noise, no epsilon)", 2);
  return parsed.spec;
}

interface PlanRow {
  readonly scenario: string;
  readonly rounds: number;
  readonly queriesPerRound: number;
  readonly noiseMultiplier: number;
  readonly noiseStddev: number;
  readonly noiseToSignal: number;
  readonly epsilon: number;
  readonly worstEpsilon: number;
}

function rowOf(scenario: string, p: NoisePlan): PlanRow {
  return {
    scenario,
    rounds: p.rounds,
    queriesPerRound: p.queriesPerRound,
    noiseMultiplier: p.noiseMultiplier,
    noiseStddev: p.noiseStddev,
    noiseToSignal: p.noiseStddev / p.maxSignal,
    epsilon: p.epsilon,
    worstEpsilon: p.worstEpsilon,
  };
}

/** The plan and its alternatives: half and double the queries and the rounds, same target (or z). */
function planRows(spec: FederationSpec): { plan: NoisePlan; rows: PlanRow[] } {
  const plan = planNoise(spec);
  const rows = [rowOf('as defined', plan)];
  const r = spec.rounds;
  // Class sums ask no queries: only the rounds change their cost.
  const queryVariants: Array<[string, Partial<FederationSpec['rounds']>]> =
    spec.privacy.summary === 'class-sums'
      ? []
      : [
          ['half the queries', { queriesPerRound: Math.max(1, Math.round(r.queriesPerRound / 2)) }],
          ['double the queries', { queriesPerRound: Math.min(100_000, r.queriesPerRound * 2) }],
        ];
  const variants: Array<[string, Partial<FederationSpec['rounds']>]> = [
    ...queryVariants,
    ['half the rounds', { maxRounds: Math.max(1, Math.round(r.maxRounds / 2)) }],
    ['double the rounds', { maxRounds: Math.min(10_000, r.maxRounds * 2) }],
  ];
  for (const [name, change] of variants) {
    const variant = { ...spec, rounds: { ...r, ...change } };
    try {
      rows.push(rowOf(name, planNoise(variant)));
    } catch {
      // A variant no noise multiplier can serve is left out; the plan itself was served.
    }
  }
  return { plan, rows };
}

function renderPlan(spec: FederationSpec, plan: NoisePlan, rows: readonly PlanRow[]): string {
  const votes = spec.privacy.summary === 'votes';
  const sums = spec.privacy.summary === 'class-sums';
  const unit = votes ? 'votes' : sums ? 'summed unit-norm features' : 'summed probability';
  const asked = sums ? 'class sums, no queries' : `${plan.queriesPerRound} queries`;
  const head = plan.chosen
    ? `target epsilon ${plan.targetEpsilon} at delta ${plan.delta} over ${plan.rounds} rounds of ${asked} (${spec.privacy.mechanism}, ${spec.privacy.summary}, ${spec.labels.length} classes): noise multiplier z = ${plan.noiseMultiplier.toFixed(4)}`
    : `noise multiplier z = ${plan.noiseMultiplier} (set by privacy.noiseMultiplier) at delta ${plan.delta} over ${plan.rounds} rounds of ${asked} (${spec.privacy.mechanism}, ${spec.privacy.summary})`;
  const meaning = sums
    ? `each entry carries noise of stddev ${plan.noiseStddev.toFixed(3)} in summed unit-norm features; each record adds at most 1 to an entry of its class, and ${plan.sites} sites count at most ${plan.maxSignal} records (secureAggregation.maxClassSumRecords each)`
    : votes
      ? `each vote count carries noise of stddev ${plan.noiseStddev.toFixed(1)} votes; ${plan.sites} sites x ${spec.secureAggregation.maxTeachersPerSite} teachers give at most ${plan.maxSignal} votes per query, so an answer is clear only where the top class leads by a few times ${plan.noiseStddev.toFixed(1)}`
      : `each entry carries noise of stddev ${plan.noiseStddev.toFixed(3)} in summed probability; ${plan.sites} sites x ${spec.secureAggregation.maxTeachersPerSite} teachers sum to at most ${plan.maxSignal} per entry`;
  const table = [
    `| scenario | rounds | queries | z | noise stddev (${unit}) | noise / max signal | epsilon | worst-case epsilon |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (w) =>
        `| ${w.scenario} | ${w.rounds} | ${sums ? 0 : w.queriesPerRound} | ${w.noiseMultiplier.toFixed(4)} | ${w.noiseStddev.toFixed(3)} | ${w.noiseToSignal.toFixed(3)} | ${w.epsilon.toFixed(4)} | ${w.worstEpsilon.toFixed(4)} |`,
    ),
  ];
  return [
    head,
    `epsilon of ${plan.rounds} full rounds: ${plan.epsilon.toFixed(4)} (Renyi order ${plan.order}); with the ${evaluationRoundCap(spec) ?? 0} evaluation round(s) of rounds.maxEvaluationRounds, every round as costly as the costliest (${sums ? 'a class-sum round' : 'one query'}, or an evaluation): ${plan.worstEpsilon.toFixed(4)}`,
    meaning,
    `assumes rounds of ${plan.sites} sites (rounds.minSites); each site still prices every round on its own ledger under its own trust`,
    '',
    ...table,
  ].join('\n');
}

/** `fedistill privacy plan`: the noise a target epsilon needs, and the trade-off, before anything runs. */
export function registerPlan(privacy: Command): void {
  privacy
    .command('plan')
    .description(
      "choose the noise multiplier for a target epsilon over a federation's life, and show the trade-off",
    )
    .option(
      '--file <file>',
      'a federation definition (YAML or JSON, as `coordinator federation create` reads it)',
    )
    .option('--target-epsilon <e>', "epsilon for the federation's whole life (privacy.targetEpsilon)")
    .option('--delta <d>', 'delta (privacy.delta; default 1e-5)')
    .option('--rounds <r>', "rounds over the federation's life (rounds.maxRounds; default 5)")
    .option('--queries <q>', 'queries per round (rounds.queriesPerRound; default 100)')
    .option('--classes <k>', 'number of classes (labels)')
    .option('--sites <n>', 'sites per round (rounds.minSites; default 2)')
    .addOption(
      new Option('--summary <s>', 'what sites release (privacy.summary)').choices([
        'soft-labels',
        'votes',
        'class-sums',
      ]),
    )
    .addOption(
      new Option('--mechanism <m>', 'noise mechanism (privacy.mechanism; default skellam)').choices([
        'skellam',
        'discrete-gaussian',
      ]),
    )
    .option('--json', 'print JSON')
    .action((opts: PlanOptions) => {
      const spec = parsedPlanSpec(opts);
      const { plan, rows } = planRows(spec);
      const { release: _release, ...figures } = plan;
      output(
        Boolean(opts.json),
        { ...figures, mechanism: spec.privacy.mechanism, summary: spec.privacy.summary, rows },
        () => renderPlan(spec, plan, rows),
      );
    });
}
