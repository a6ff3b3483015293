import type { SimulationConfig } from '../config';

/** The federation id every simulated deployment uses. */
export const SIMULATED_FEDERATION = 'simulation';

/** Class names for the federation definition: the data set's own names, else 'class-0', ... */
export function labelsOf(c: SimulationConfig, classes: number): string[] {
  const declared = 'kind' in c.dataset ? c.dataset.classes : undefined;
  if (Array.isArray(declared) && declared.length === classes) return [...(declared as string[])];
  return Array.from({ length: classes }, (_, i) => `class-${i}`);
}

/**
 * The federation definition an operator would write for this simulation (docs/federations.md):
 * every setting of the simulation that the deployment has is carried over, so the simulated
 * rounds are planned, announced, answered and distilled by the deployment's own code.
 */
export function federationDefinition(
  c: SimulationConfig,
  o: { readonly classes: number; readonly inputShape: readonly number[]; readonly referenceSha256: string },
): Record<string, unknown> {
  const p = c.privacy;
  const sa = c.secureAggregation;
  if (sa.bits < 16)
    throw new RangeError(
      `'secureAggregation.bits' is ${sa.bits}: a deployment's ring has at least 16 bits (federation secureAggregation.modulusBits)`,
    );
  const a = c.aggregation;
  return {
    id: SIMULATED_FEDERATION,
    description: 'fedistill simulate: the deployment run in one process over an in-memory transport',
    labels: labelsOf(c, o.classes),
    input: { shape: [...o.inputShape] },
    referenceSet: { sha256: o.referenceSha256 },
    student: { architecture: 'mlp', hidden: [...c.student.hidden] },
    privacy:
      p.kind === 'none'
        ? { mechanism: 'none', summary: c.summary }
        : {
            mechanism: p.kind,
            summary: c.summary,
            noiseMultiplier: p.noiseMultiplier,
            clipNorm: p.clip,
            granularity: p.granularity ?? 0.01,
            delta: p.delta,
            // The simulation reports epsilon; it does not stop at a cap.
            epsilonCap: 1e6,
            assumedColluders: p.assumedColluders ?? 0,
          },
    secureAggregation: {
      threshold: sa.threshold,
      dropoutTolerance: sa.toleratedDropouts,
      neighbours: sa.neighbours === 'all' ? 0 : sa.neighbours,
      modulusBits: sa.bits,
      maxTeachersPerSite: c.teachers.perSite,
    },
    distillation: {
      aggregation: a.kind,
      ...(a.kind === 'era' ? { eraTemperature: a.temperature } : {}),
      ...(a.kind === 'gnmax' && a.threshold !== undefined ? { gnmaxThreshold: a.threshold } : {}),
      epochs: c.student.epochs,
      batchSize: c.student.batchSize,
      temperature: c.student.temperature ?? 1,
      threads: c.threads ?? 1,
      seed: c.seed,
      ...(c.student.pseudoLabelThreshold !== undefined
        ? { selfTraining: { threshold: c.student.pseudoLabelThreshold } }
        : {}),
    },
    rounds: {
      queriesPerRound: c.queries.perRound,
      maxRounds: c.rounds,
      minSites: c.sites,
      querySelection: c.queries.strategy,
      // Stages close as soon as every node has answered; the long deadlines only leave room for
      // a busy machine training every site's teachers (and revisiting them) in one process.
      deadlines: { advertiseKeys: '30m', shareKeys: '30m', maskedInput: '30m', unmask: '30m' },
    },
    ...(c.revisit
      ? {
          revisit: {
            digestEpochs: c.revisit.digestEpochs,
            localEpochs: c.revisit.localEpochs,
            learningRate: c.revisit.learningRate ?? 1e-3,
          },
        }
      : {}),
  };
}

/**
 * What simulated site `site` adds to its node.yaml: its records (written as NPY into its node
 * directory), its teachers as the simulation configures them, and the privacy settings matching
 * the federation's noise plan (the trust a federation's `assumedColluders` asks sites to share).
 */
export function nodeSettings(c: SimulationConfig, site: number): Record<string, unknown> {
  const p = c.privacy;
  const colluders = p.kind === 'none' ? 0 : (p.assumedColluders ?? 0);
  return {
    data: { train: 'data/train.npy', labels: 'data/labels.npy', format: 'npy', testFraction: 0 },
    teachers: {
      count: c.teachers.perSite,
      hidden: [...c.teachers.hidden],
      epochs: c.teachers.epochs,
      batchSize: c.teachers.batchSize,
      seed: c.seed * 100 + site,
    },
    privacy: {
      epsilonLimit: 1e6,
      ...(p.kind === 'none'
        ? { allowNonPrivate: true }
        : colluders === 'all'
          ? { delta: p.delta, trust: 'paranoid' }
          : { delta: p.delta, trust: 'colluders', assumedColluders: colluders }),
    },
    security: { minParticipants: Math.min(3, c.sites), minThreshold: 2 },
    log: { level: 'warn' },
  };
}
