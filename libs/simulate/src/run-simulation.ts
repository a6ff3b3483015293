import { type Dataset, selectSamples } from '@fedistill/data';
import { RdpAccountant, type RandomSource, seededRandom } from '@fedistill/dp';
import { type DropStage, type IdentityKeyPair, makeIdentities } from '@fedistill/secagg';
import type { Targets } from '@fedistill/distill';
import { targetsFromSum } from '@fedistill/distill';
import { classificationMetrics, type ClassificationMetrics } from '@fedistill/distill';
import { selectQueries } from '@fedistill/distill';
import {
  type DistilledStudent,
  distillStudent,
  type StudentOptions,
  studentProbabilities,
} from '@fedistill/distill';
import { TeacherEnsemble } from '@fedistill/distill';
import { type BaselineResults, runBaselines } from './baselines';
import { type SimulationConfig, validateSimulationConfig } from './config';
import { loadSimulationData, type SimulationData } from './data';
import { selfTrain } from '@fedistill/distill';
import {
  checkSimulatedRing,
  planSimulatedRelease,
  type ReleasePlan,
  secureSum,
  siteContribution,
} from './private-sum';

/** What one round did and what the student reached after it. */
export interface RoundMetrics {
  /** 1-based round number. */
  readonly round: number;
  /** Reference inputs asked this round. */
  readonly queries: number;
  /** Their indices in the public reference set (ascending). */
  readonly queried: readonly number[];
  /** Reference inputs with a target so far (all rounds). */
  readonly answered: number;
  /** Unanswered reference inputs the student pseudo-labelled itself this round (0 when off). */
  readonly pseudoLabelled: number;
  /** Sites whose inputs were summed; empty when the round was abandoned. */
  readonly survivors: readonly number[];
  /** Why secure aggregation abandoned the round (nothing released, nothing charged), else null. */
  readonly abandoned: string | null;
  /** Student test metrics after the round; null while no query has been answered. */
  readonly metrics: ClassificationMetrics | null;
  /** Payload bytes each site sent this round (keys, sealed shares, masked vector, unmask response). */
  readonly bytesPerSite: readonly number[];
  /** Cumulative ε at `delta` after this round; null without privacy. */
  readonly epsilon: number | null;
  readonly delta: number | null;
}

/** The result of `runSimulation`. */
export interface SimulationResult {
  readonly rounds: readonly RoundMetrics[];
  /** The final student as inference-only ONNX (inputs standardized with `studentStandardizer`), or null. */
  readonly student: DistilledStudent | null;
  readonly baselines: BaselineResults;
  /** Final cumulative ε (null without privacy) and the accountant's RDP curve. */
  readonly epsilon: number | null;
  readonly rdpCurve: readonly number[];
  readonly classes: number;
}

/** A progress event: a short human-readable line, and how far the run is in [0, 1]. */
export interface SimulationProgress {
  readonly message: string;
  readonly fraction: number;
}

interface RoundContext {
  readonly c: SimulationConfig;
  readonly data: SimulationData;
  readonly teachers: readonly TeacherEnsemble[];
  readonly random: RandomSource;
  readonly identities: ReadonlyMap<number, IdentityKeyPair>;
  readonly accountant: RdpAccountant;
  readonly classes: number;
  /** Reference indices not asked yet. */
  candidates: number[];
  /** Reference indices with targets, and their targets (row-major). */
  labelled: number[];
  targets: number[];
  student: DistilledStudent | null;
  pseudoLabelled: number;
}

/**
 * Runs a federation of `c.sites` virtual sites in one process: teachers at each site, then
 * `c.rounds` rounds of query selection, teacher answers, quantization, distributed noise,
 * SecAgg+ masking and unmasking with the real state machines, aggregation and student
 * distillation; then the baselines asked for. Deterministic for a config: all noise comes from
 * `seededRandom(c.seed)` (a deployment uses the OS CSPRNG, `cryptoRandom`, instead).
 */
export async function runSimulation(
  c: SimulationConfig,
  o: { onProgress?: (p: SimulationProgress) => void } = {},
): Promise<SimulationResult> {
  validateSimulationConfig(c);
  const progress = (message: string, fraction: number): void => o.onProgress?.({ message, fraction });
  const data = await loadSimulationData(c);
  const classes = data.reference.numClasses;
  // Fail before any training when the largest round's noisy sum cannot fit the ring.
  checkSimulatedRing(planSimulatedRelease(c, c.queries.perRound, classes), c);
  const teachers: TeacherEnsemble[] = [];
  try {
    await trainTeachers(c, data, teachers, progress);
    // Reproducible randomness for simulations only; production rounds use cryptoRandom.
    const random = seededRandom(c.seed);
    const ctx: RoundContext = {
      c,
      data,
      teachers,
      random,
      classes,
      identities: makeIdentities(
        data.sites.map((_, i) => i),
        random,
      ),
      accountant: new RdpAccountant(),
      candidates: Array.from({ length: data.reference.count }, (_, i) => i),
      labelled: [],
      targets: [],
      student: null,
      pseudoLabelled: 0,
    };
    const rounds: RoundMetrics[] = [];
    for (let r = 1; r <= c.rounds; r += 1) {
      progress(`round ${r}/${c.rounds}`, (c.sites + r - 1) / (c.sites + c.rounds + 1));
      rounds.push(await playRound(ctx, r));
    }
    const baselines = await runBaselines(c, data, (m) =>
      progress(m, (c.sites + c.rounds) / (c.sites + c.rounds + 1)),
    );
    progress('done', 1);
    return {
      rounds,
      student: ctx.student,
      baselines,
      epsilon: c.privacy.kind === 'none' ? null : ctx.accountant.epsilon(c.privacy.delta).epsilon,
      rdpCurve: ctx.accountant.curve,
      classes,
    };
  } finally {
    await Promise.all(teachers.map((t) => t.dispose()));
  }
}

// Each site trains its teachers on its own records (pushed into `out` so they are disposed on failure).
async function trainTeachers(
  c: SimulationConfig,
  data: SimulationData,
  out: TeacherEnsemble[],
  progress: (message: string, fraction: number) => void,
): Promise<void> {
  for (const [s, site] of data.sites.entries()) {
    progress(
      `site ${s + 1}/${c.sites}: training ${c.teachers.perSite} teachers on ${site.count} records`,
      s / (c.sites + c.rounds + 1),
    );
    out.push(
      await TeacherEnsemble.train(site, {
        ...c.teachers,
        teachers: c.teachers.perSite,
        seed: c.seed * 100 + s,
        threads: c.threads ?? 1,
        keepTrainingState: c.revisit !== undefined,
      }),
    );
  }
}

async function chooseQueries(ctx: RoundContext, round: number): Promise<number[]> {
  const { c } = ctx;
  if (c.queries.strategy === 'random' || !ctx.student)
    return selectQueries(ctx.candidates, c.queries.perRound, { kind: 'random' }, c.seed * 1000 + round);
  // The student's confidence on public reference inputs reveals nothing private.
  const probs = await studentProbabilities(ctx.student, selectSamples(ctx.data.reference, ctx.candidates), {
    threads: c.threads ?? 1,
  });
  return selectQueries(
    ctx.candidates,
    c.queries.perRound,
    { kind: 'least-confident' },
    c.seed * 1000 + round,
    { probs, classes: ctx.classes },
  );
}

function toTargets(sum: Int32Array, plan: ReleasePlan, c: SimulationConfig, classes: number): Targets {
  return targetsFromSum(sum, plan, c.aggregation, classes);
}

async function playRound(ctx: RoundContext, round: number): Promise<RoundMetrics> {
  const { c, classes } = ctx;
  const queries = await chooseQueries(ctx, round);
  const asked = new Set(queries);
  ctx.candidates = ctx.candidates.filter((i) => !asked.has(i));
  const plan = planSimulatedRelease(c, queries.length, classes);
  const x = selectSamples(ctx.data.reference, queries).features;
  const inputs: Int32Array[] = [];
  for (const t of ctx.teachers)
    inputs.push(siteContribution(await t.probabilities(x, queries.length), plan, c, classes, ctx.random));
  const drops = new Map<number, DropStage>(
    (c.secureAggregation.dropouts ?? []).filter((d) => d.round === round).map((d) => [d.site, d.stage]),
  );
  const out = secureSum(inputs, plan, c, round, { random: ctx.random, identities: ctx.identities, drops });
  if (out.sum) {
    // The noisy sum is released once per round: that release is what the accountant charges.
    if (plan.mechanism) ctx.accountant.add(plan.mechanism);
    const targets = toTargets(out.sum, plan, c, classes);
    targets.answered.forEach((a, i) => {
      ctx.labelled.push(queries[a] as number);
      ctx.targets.push(...targets.probs.subarray(i * classes, (i + 1) * classes));
    });
    if (ctx.labelled.length > 0) ctx.student = await distil(ctx, round);
    if (c.revisit && round < c.rounds && ctx.labelled.length > 0) await digestAndRevisit(ctx, round);
  }
  return {
    round,
    queries: queries.length,
    queried: queries,
    answered: ctx.labelled.length,
    pseudoLabelled: ctx.pseudoLabelled,
    survivors: out.survivors,
    abandoned: out.abandonedReason,
    metrics: ctx.student ? await evaluate(ctx.student, ctx.data.test, c) : null,
    bytesPerSite: out.bytesPerSite,
    epsilon: c.privacy.kind === 'none' ? null : ctx.accountant.epsilon(c.privacy.delta).epsilon,
    delta: c.privacy.kind === 'none' ? null : c.privacy.delta,
  };
}

/**
 * FedMD's digest and revisit between rounds (arXiv:1910.03581, §2; DS-FL, arXiv:2008.06180,
 * §III): every site fine-tunes its teachers on the released targets of all answered reference
 * inputs, then on its own partitions. Privacy: the targets are the released noisy aggregate, so
 * digesting them is post-processing and costs nothing; the revisit uses only each teacher's own
 * partition and the partitions stay disjoint, so given the earlier releases one record still
 * changes one teacher's contribution in the next round, whose release the accountant charges
 * in full (adaptive RDP composition, Mironov 2017, arXiv:1702.07476, Prop. 1). A deployment
 * sends the published targets down to the sites; the simulator counts only upload bytes.
 */
async function digestAndRevisit(ctx: RoundContext, round: number): Promise<void> {
  const { c } = ctx;
  const revisit = c.revisit!;
  const x = selectSamples(ctx.data.reference, ctx.labelled).features;
  const targets = Float32Array.from(ctx.targets);
  for (const [s, teachers] of ctx.teachers.entries())
    await teachers.digestAndRevisit(x, ctx.labelled.length, targets, {
      digestEpochs: revisit.digestEpochs,
      localEpochs: revisit.localEpochs,
      batchSize: c.teachers.batchSize,
      learningRate: revisit.learningRate,
      seed: (c.seed * 100 + s) * 1000 + round,
      threads: c.threads ?? 1,
    });
}

async function distil(ctx: RoundContext, round: number): Promise<DistilledStudent> {
  const { c } = ctx;
  const targets: Targets = {
    probs: Float32Array.from(ctx.targets),
    answered: ctx.labelled.map((_, i) => i),
  };
  const options: StudentOptions = {
    hidden: c.student.hidden,
    classes: ctx.classes,
    temperature: c.student.temperature ?? 1,
    epochs: c.student.epochs,
    batchSize: c.student.batchSize,
    seed: c.seed * 1000 + round,
    threads: c.threads ?? 1,
  };
  const student = await distillStudent(ctx.data.reference, ctx.labelled, targets, options);
  const threshold = c.student.pseudoLabelThreshold;
  if (threshold === undefined) return student;
  const out = await selfTrain(student, ctx.data.reference, ctx.labelled, targets.probs, threshold, options);
  ctx.pseudoLabelled = out.pseudoLabelled;
  return out.student;
}

async function evaluate(
  student: DistilledStudent,
  test: Dataset,
  c: SimulationConfig,
): Promise<ClassificationMetrics> {
  const probs = await studentProbabilities(student, test, { threads: c.threads ?? 1 });
  return classificationMetrics(probs, test.labels, test.numClasses);
}
