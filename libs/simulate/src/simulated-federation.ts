import {
  effectiveNoiseMultiplier,
  epsilonCapRefusal,
  type FederationSpec,
  parseFederationSpec,
  plannedQueries,
  planRound,
  type RoundPlan,
} from '@fedistill/protocol';
import type { SimulationConfig } from './config';

/** The federation id a simulation uses unless its definition names one. */
export const SIMULATED_FEDERATION = 'simulation';

/**
 * How long each stage of a round may take unless the definition says (rounds.deadlines). Stages
 * close as soon as every node still expected has answered, so the long deadlines only leave room
 * for a busy machine training every site's teachers (and revisiting them) in one process. A
 * stage left waiting only for the sites a simulated dropout silenced does not wait them out: the
 * simulator runs its round clock past the deadline (SimulationClock, `silentAt`).
 */
export const STAGE_DEADLINES = { advertiseKeys: '6h', shareKeys: '30m', maskedInput: '1h', unmask: '30m' };

/** What the simulation fills into its federation definition: what only its data and sites know. */
export interface SimulationFill {
  readonly sites: number;
  /** The classes' names (the data set's), unless the definition lists `labels` itself. */
  readonly labels: readonly string[];
  readonly inputShape?: readonly number[];
  readonly referenceSha256?: string;
  /** Defaults of distillation.seed and distillation.threads: the simulation's seed and threads. */
  readonly seed: number;
  readonly threads?: number;
  /** Default of secureAggregation.maxTeachersPerSite: the most teachers a simulated site has. */
  readonly maxTeachersPerSite?: number;
}

type Definition = Record<string, unknown>;

/**
 * The federation definition the simulated coordinator is given: the configuration's `federation`
 * section as written, with what the simulation knows filled in (the reference set, the input
 * shape and the labels of its data; rounds.minSites its sites; long stage deadlines, the seeds
 * and threads unless the section sets them). Problems are the ones `federation create` names,
 * prefixed with 'federation.'.
 */
export function completeDefinition(
  written: Definition,
  fill: SimulationFill,
): { ok: true; definition: Definition; spec: FederationSpec } | { ok: false; problems: string[] } {
  const problems = ['referenceSet', 'input']
    .filter((k) => k in written)
    .map(
      (k) =>
        `federation.${k}: set by the simulation from its data (referenceSize records held out; their shape); remove it`,
    );
  if (problems.length) return { ok: false, problems };
  // A section given as something else than a mapping is left as written, for the parser to refuse.
  const withDefaults = (name: string, defaults: Definition): unknown => {
    const v = written[name];
    if (v === undefined) return defaults;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...defaults, ...v } : v;
  };
  const definition: Definition = {
    id: SIMULATED_FEDERATION,
    description: 'fedistill simulate: the deployment run in one process over an in-memory transport',
    labels: [...fill.labels],
    ...written,
    input: { shape: [...(fill.inputShape ?? [1])] },
    referenceSet: { sha256: fill.referenceSha256 ?? '0'.repeat(64) },
    rounds: withDefaults('rounds', { minSites: fill.sites, deadlines: STAGE_DEADLINES }),
    distillation: withDefaults('distillation', { seed: fill.seed, threads: fill.threads ?? 1 }),
    secureAggregation: withDefaults(
      'secureAggregation',
      fill.maxTeachersPerSite === undefined ? {} : { maxTeachersPerSite: fill.maxTeachersPerSite },
    ),
  };
  const parsed = parseFederationSpec(definition);
  if (!parsed.ok) return { ok: false, problems: parsed.problems.map((p) => `federation.${p}`) };
  const spec = parsed.spec;
  if (spec.rounds.minSites > fill.sites)
    problems.push(
      `federation.rounds.minSites: ${spec.rounds.minSites} exceeds the simulation's ${fill.sites} sites: no round could open`,
    );
  if (spec.student.architecture !== 'mlp')
    problems.push(
      "federation.student.architecture: the simulator's baselines (local-only, centralized, FedAvg) train the student's mlp; cnn is not simulated",
    );
  return problems.length ? { ok: false, problems } : { ok: true, definition, spec };
}

/** The class names a data set declares, for checking a definition before the data is read. */
export function declaredLabels(dataset: unknown): string[] {
  const d = (typeof dataset === 'string' ? { name: dataset } : dataset) as {
    name?: string;
    classes?: number | string[];
  };
  const count = (k: number) => Array.from({ length: k }, (_, i) => `class-${i}`);
  // Names the data set's own checks refuse (repeated, fewer than two) are left to them.
  if (Array.isArray(d.classes) && d.classes.length >= 2 && new Set(d.classes).size === d.classes.length)
    return d.classes;
  if (typeof d.classes === 'number' && Number.isInteger(d.classes) && d.classes >= 2) return count(d.classes);
  return count(d.name === 'breast-cancer' || d.name === undefined ? 2 : 10);
}

/**
 * The simulation's settings that follow from its federation definition, in the form the
 * simulator's library API (SimulationConfig) takes them: one mapping, so the deployment reads the
 * definition as written and the simulator's own reporting and baselines read the same values.
 */
export function settingsOf(
  spec: FederationSpec,
  sites: number,
  dropouts: SimulationConfig['secureAggregation']['dropouts'],
): Pick<
  SimulationConfig,
  | 'student'
  | 'rounds'
  | 'revisit'
  | 'features'
  | 'queries'
  | 'summary'
  | 'aggregation'
  | 'privacy'
  | 'secureAggregation'
> {
  const p = spec.privacy;
  const d = spec.distillation;
  const sa = spec.secureAggregation;
  const degree = sa.neighbours > 0 ? Math.min(sa.neighbours, sites - 1) : sites - 1;
  const hidden = spec.student.architecture === 'mlp' ? spec.student.hidden : [spec.student.hidden];
  return {
    student: {
      hidden,
      epochs: d.epochs,
      batchSize: d.batchSize,
      temperature: d.temperature,
      schedule: d.schedule,
      ...(d.selfTraining ? { pseudoLabelThreshold: d.selfTraining.threshold } : {}),
    },
    rounds: spec.rounds.maxRounds,
    ...(spec.revisit ? { revisit: spec.revisit } : {}),
    ...(spec.features
      ? {
          features: {
            ...(spec.features.scattering ? { scattering: spec.features.scattering } : {}),
            ...(spec.features.pca ? { pca: spec.features.pca } : {}),
          },
        }
      : {}),
    queries: { perRound: spec.rounds.queriesPerRound, strategy: spec.rounds.querySelection },
    summary: p.summary,
    aggregation:
      d.aggregation === 'era'
        ? { kind: 'era', temperature: d.eraTemperature ?? 1 }
        : d.aggregation === 'gnmax'
          ? { kind: 'gnmax', ...(d.gnmaxThreshold === undefined ? {} : { threshold: d.gnmaxThreshold }) }
          : { kind: 'mean' },
    privacy:
      p.mechanism === 'none'
        ? { kind: 'none' }
        : {
            kind: p.mechanism,
            noiseMultiplier: effectiveNoiseMultiplier(spec),
            clip: p.clipNorm,
            delta: p.delta,
            granularity: p.granularity,
            assumedColluders: p.assumedColluders,
          },
    secureAggregation: {
      threshold: sa.threshold ?? Math.floor(degree / 2) + 1,
      neighbours: sa.neighbours > 0 ? sa.neighbours : 'all',
      bits: sa.modulusBits,
      toleratedDropouts: sa.dropoutTolerance,
      ...(dropouts ? { dropouts } : {}),
    },
  };
}

/**
 * Refuses (RangeError, the coordinator's own message) a simulation whose rounds would pass the
 * definition's privacy.epsilonCap: the coordinator would refuse to open that round. Every round
 * is planned as the coordinator plans it, with all the sites.
 */
export function checkEpsilonCapOf(spec: FederationSpec, sites: number): void {
  const roster = Array.from({ length: sites }, (_v, i) => ({ name: `site-${i + 1}`, signingPublicKey: '' }));
  const queries = plannedQueries(spec);
  // Every round of a simulation asks as many queries of the same sites: one plan, renumbered.
  const first = planRound(spec, 1, roster, queries, 0);
  const plans: RoundPlan[] = Array.from({ length: spec.rounds.maxRounds }, (_v, i) => ({
    ...first,
    round: i + 1,
  }));
  const refusalAt = (k: number) => epsilonCapRefusal(spec, plans.slice(0, k - 1), plans[k - 1] as RoundPlan);
  if (refusalAt(plans.length) === null) return;
  // ε grows with every round: the first refused round, by bisection (lo passes, hi is refused).
  let lo = 0;
  let hi = plans.length;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (refusalAt(mid) === null) lo = mid;
    else hi = mid;
  }
  throw new RangeError(
    `federation.privacy.epsilonCap: ${refusalAt(hi) ?? ''}; the coordinator would refuse to open it (raise the noise or the cap, or lower federation.rounds.maxRounds)`,
  );
}
