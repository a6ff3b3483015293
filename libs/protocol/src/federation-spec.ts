// Just over the ~300-line guide: the federation definition is one zod schema (every section and its
// documented default in one place), its cross-field checks and the noise planner call.
import { z } from 'zod';
import { featuresIssues, featuresSpecSchema } from './features-spec';
import { noiseMultiplierFor } from './noise-plan';
import { zodDuration as duration, zodOptionalDuration as optionalDuration } from './zod-duration';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/**
 * A federation's definition, as the operator writes it (YAML or JSON). Documented field by
 * field in docs/federations.md; validated once, then stored and served to member sites as is.
 */
export const federationSpecSchema = z
  .object({
    id: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{1,63}$/,
        'must be 2-64 lower-case letters, digits or hyphens, starting with a letter',
      ),
    description: z.string().max(2000).default(''),
    labels: z
      .array(z.string().min(1).max(64))
      .min(2)
      .max(1000)
      .refine((l) => new Set(l).size === l.length, { message: 'labels must be distinct' }),
    input: z.object({ shape: z.array(positiveInt(65536)).min(1).max(4) }).strict(),
    referenceSet: z
      .object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256') })
      .strict(),
    student: z.discriminatedUnion('architecture', [
      z
        .object({ architecture: z.literal('mlp'), hidden: z.array(positiveInt(8192)).max(8).default([64]) })
        .strict(),
      z
        .object({
          architecture: z.literal('cnn'),
          channels: z.array(positiveInt(1024)).min(1).max(4).default([16, 32]),
          hidden: positiveInt(8192).default(128),
        })
        .strict(),
    ]),
    privacy: z
      .object({
        mechanism: z.enum(['skellam', 'discrete-gaussian', 'none']),
        /**
         * What a round releases: teachers' soft labels or votes on queried reference rows, or
         * 'class-sums' (libs/distill class-sums.ts): once per round, per class, the sum of the
         * site's records' normalized features, from which the coordinator fits a ridge
         * classifier with the reference set's second moment. Needs features.pca, or no features
         * (then the inputs themselves, flattened, are summed).
         */
        summary: z.enum(['soft-labels', 'votes', 'class-sums']).default('soft-labels'),
        /**
         * Noise standard deviation in the aggregate, in units of the per-record sensitivity (for
         * experts; else give targetEpsilon). Exactly one of the two with a private mechanism.
         */
        noiseMultiplier: z.number().positive().max(1e6).optional(),
        /**
         * ε at `delta` for the federation's whole life (rounds.maxRounds rounds): the noise
         * multiplier is then chosen by the noise planner (noise-plan.ts noiseMultiplierFor) and
         * epsilonCap defaults to it.
         */
        targetEpsilon: z.number().positive().max(1e6).optional(),
        /** L2 clip of one teacher's soft-label vector for one query; a probability vector has norm <= 1. */
        clipNorm: z.number().positive().max(1).default(1),
        /** One integer unit of a soft label in secure aggregation (randomized rounding, KLS21 §4). */
        granularity: z.number().positive().max(1).default(0.01),
        temperature: z.number().positive().max(100).default(1),
        delta: z.number().positive().lt(1).default(1e-5),
        epsilonCap: z.number().positive().max(1e6).optional(),
        /**
         * Colluders C the noise plan assumes among a round's n - T survivors: each site adds
         * V/(n - T - C), so a site assuming the same reaches the target. 'all' (the default)
         * assumes every other participant may collude: each site adds the whole target noise,
         * which matches a node's default `privacy.trust: paranoid`. Capped at n - T - 1.
         */
        assumedColluders: z.union([z.number().int().min(0).max(999), z.literal('all')]).default('all'),
      })
      .strict()
      .superRefine((p, ctx) => {
        for (const issue of noiseIssues(p)) ctx.addIssue({ code: 'custom', ...issue });
        if (p.mechanism !== 'none' && p.epsilonCap === undefined && p.targetEpsilon === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['epsilonCap'],
            message: `is required with mechanism '${p.mechanism}'`,
          });
        }
      })
      // The cap the coordinator enforces per round defaults to the planned target.
      .transform((p) =>
        p.epsilonCap === undefined && p.targetEpsilon !== undefined
          ? { ...p, epsilonCap: p.targetEpsilon }
          : p,
      ),
    secureAggregation: z
      .object({
        threshold: positiveInt(1000).optional(),
        dropoutTolerance: z.number().int().min(0).max(999).default(0),
        neighbours: z.number().int().min(0).max(1000).default(0),
        modulusBits: z.number().int().min(16).max(32).default(32),
        /** The most teachers one site may contribute: with the noise it bounds one site's input in the ring. */
        maxTeachersPerSite: positiveInt(1000).default(16),
        /** The most local test records one site counts in an evaluation round (bounds its input). */
        maxEvaluationRecords: positiveInt(10_000_000).default(100_000),
        /** The most records one site counts in a class-sum round (bounds its input in the ring). */
        maxClassSumRecords: positiveInt(10_000_000).default(100_000),
      })
      .strict()
      .prefault({}),
    /** How the coordinator turns each round's noisy sum into targets and trains the student. */
    distillation: z
      .object({
        /** mean: normalized soft labels; era: sharpened (DS-FL); gnmax: noisy-argmax votes. */
        aggregation: z.enum(['mean', 'era', 'gnmax']).default('mean'),
        /** ERA softmax temperature, < 1 sharpens (Itahara et al. 2020, arXiv:2008.06180, §III-C). */
        eraTemperature: z.number().positive().max(100).optional(),
        /** GNMax confidence threshold: queries whose largest noisy vote count is below it are dropped. */
        gnmaxThreshold: z.number().min(0).max(1e9).optional(),
        epochs: positiveInt(10000).default(30),
        batchSize: positiveInt(65536).default(32),
        learningRate: z.number().positive().max(10).default(0.01),
        /**
         * The student's learning-rate schedule: cosine annealing to zero over the whole training
         * (arXiv:1608.03983), or constant. Cosine measured +2.5 points on Fashion-MNIST with a
         * fifth of the spread over seeds (docs/benchmarks.md, "Student learning-rate schedule").
         */
        schedule: z.enum(['constant', 'cosine']).default('cosine'),
        /** Temperature T of the distillation loss (KL at T scaled by T², Hinton et al. 2015). */
        temperature: z.number().positive().max(100).default(1),
        executionProvider: z.enum(['cpu', 'webgpu', 'cuda', 'auto']).default('cpu'),
        /** CPU threads for training: few, so the coordinator keeps answering sites while it trains. */
        threads: positiveInt(256).default(1),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .default(0),
        /**
         * Self-training after each distillation (off when absent): the unanswered reference inputs
         * the student is at least `threshold` sure of join its training set with their one-hot
         * pseudo-label (libs/distill selfTrain; post-processing, no privacy cost). Below 1: selfTrain
         * takes (0, 1), as the simulator's student.pseudoLabelThreshold does.
         */
        selfTraining: z
          .object({ threshold: z.number().gt(0, 'must be > 0').lt(1, 'must be < 1') })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    rounds: z
      .object({
        queriesPerRound: positiveInt(100000).default(100),
        /**
         * How a round's queries are chosen among the reference rows no completed round asked:
         * 'random' (seeded from distillation.seed and the round number; public), or
         * 'least-confident' (where the latest published student is least sure; random before it).
         */
        querySelection: z.enum(['random', 'least-confident']).default('random'),
        /**
         * Distillation rounds that completed (released targets): abandoned rounds and evaluation
         * rounds do not count. Round numbers stay unique across all of them.
         */
        maxRounds: positiveInt(10000).default(5),
        /**
         * Evaluation rounds that completed, counted apart from maxRounds; the noise planner
         * budgets them too (targetEpsilon covers maxRounds + maxEvaluationRounds rounds).
         */
        maxEvaluationRounds: z.number().int().min(0).max(10000).default(1),
        minSites: positiveInt(1000).default(2),
        deadlines: z
          .object({
            advertiseKeys: duration('30s'),
            shareKeys: duration('30s'),
            maskedInput: duration('5m'),
            // The consistency round: survivors sign the survivor set (default: as long as unmask).
            consistency: optionalDuration(),
            unmask: duration('30s'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** The feature extractor teachers and student share (features-spec.ts); none when absent. */
    features: featuresSpecSchema.optional(),
    /**
     * Digest and revisit at the sites between rounds (FedMD, arXiv:1910.03581, §2), off when
     * absent: each site fine-tunes its teachers on the published targets of earlier rounds for
     * `digestEpochs`, then on its own partitions for `localEpochs`, with Adam at `learningRate`.
     */
    revisit: z
      .object({
        digestEpochs: z.number().int().min(0).max(10000),
        localEpochs: z.number().int().min(0).max(10000),
        learningRate: z.number().positive().max(10).default(1e-3),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const sa = f.secureAggregation;
    if (sa.dropoutTolerance >= f.rounds.minSites) {
      ctx.addIssue({
        code: 'custom',
        path: ['secureAggregation', 'dropoutTolerance'],
        message: 'must be smaller than rounds.minSites',
      });
    }
    checkDistillation(f, ctx);
    // The noise planner runs only on an otherwise valid definition: zod runs this refinement
    // after out-of-range fields too, and the planner's cost grows with rounds.minSites (found by
    // fuzzing: minSites 4e9, already refused as too big, kept it busy for hours).
    if (ctx.issues.length === 0)
      for (const issue of targetIssues(f)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of revisitIssues(f)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of featuresIssues(f)) ctx.addIssue({ code: 'custom', ...issue });
    if (sa.threshold !== undefined && sa.threshold > f.rounds.minSites) {
      ctx.addIssue({
        code: 'custom',
        path: ['secureAggregation', 'threshold'],
        message: 'cannot exceed rounds.minSites',
      });
    }
  });

type Issue = { path: (string | number)[]; message: string };

/** A private mechanism needs its noise stated one way: z itself, or the ε it must reach. */
function noiseIssues(p: { mechanism: string; noiseMultiplier?: number; targetEpsilon?: number }): Issue[] {
  const both = p.noiseMultiplier !== undefined && p.targetEpsilon !== undefined;
  if (p.mechanism === 'none')
    return p.targetEpsilon === undefined
      ? []
      : [{ path: ['targetEpsilon'], message: "applies to a private mechanism, not 'none'" }];
  if (both || (p.noiseMultiplier === undefined && p.targetEpsilon === undefined))
    return [
      {
        path: ['noiseMultiplier'],
        message: `give exactly one of privacy.noiseMultiplier and privacy.targetEpsilon with mechanism '${p.mechanism}' (${both ? 'both' : 'neither'} given)`,
      },
    ];
  return [];
}

/** Cross-field rules of the student and of distillation (one issue per bad field). */
function distillationIssues(f: {
  input: { shape: number[] };
  student: { architecture: string };
  privacy: { summary: string };
  distillation: { aggregation: string; eraTemperature?: number; gnmaxThreshold?: number };
  features?: { pca?: unknown };
}): Issue[] {
  const d = f.distillation;
  const issues: Issue[] = [];
  if (f.privacy.summary === 'class-sums' && f.features && !f.features.pca)
    issues.push({
      path: ['privacy', 'summary'],
      message:
        "'class-sums' needs features.pca when the federation has features (its components are the size of the class sums; without features the inputs are summed)",
    });
  if (f.privacy.summary === 'class-sums' && d.aggregation !== 'mean')
    issues.push({
      path: ['distillation', 'aggregation'],
      message:
        "'class-sums' rounds are turned into targets by their ridge classifier; leave aggregation 'mean'",
    });
  if (f.student.architecture === 'cnn' && f.input.shape.length !== 3)
    issues.push({
      path: ['student', 'architecture'],
      message: `cnn needs input.shape [channels, height, width], not [${f.input.shape.join(', ')}]`,
    });
  if (d.aggregation === 'gnmax' && f.privacy.summary !== 'votes')
    issues.push({ path: ['distillation', 'aggregation'], message: "gnmax needs privacy.summary 'votes'" });
  if (d.eraTemperature !== undefined && d.aggregation !== 'era')
    issues.push({ path: ['distillation', 'eraTemperature'], message: "applies to aggregation 'era' only" });
  if (d.gnmaxThreshold !== undefined && d.aggregation !== 'gnmax')
    issues.push({
      path: ['distillation', 'gnmaxThreshold'],
      message: "applies to aggregation 'gnmax' only",
    });
  return issues;
}

/** A target ε the noise planner cannot reach (it needs more noise than z may be) is refused here. */
function targetIssues(f: FederationSpec): Issue[] {
  if (f.privacy.mechanism === 'none' || f.privacy.targetEpsilon === undefined) return [];
  if (f.privacy.noiseMultiplier !== undefined) return []; // already refused by noiseIssues
  try {
    noiseMultiplierFor(f);
    return [];
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return [
      {
        path: ['privacy', 'targetEpsilon'],
        message: err.message.replace(/^'privacy\.targetEpsilon' \S+ /, ''),
      },
    ];
  }
}

/** Revisit acts between rounds and must do something. */
function revisitIssues(f: {
  rounds: { maxRounds: number };
  revisit?: { digestEpochs: number; localEpochs: number };
}): Issue[] {
  const r = f.revisit;
  if (!r) return [];
  const issues: Issue[] = [];
  if (r.digestEpochs + r.localEpochs === 0)
    issues.push({ path: ['revisit'], message: 'needs digestEpochs or localEpochs >= 1' });
  if (f.rounds.maxRounds < 2)
    issues.push({ path: ['revisit'], message: 'needs rounds.maxRounds >= 2 (it acts between rounds)' });
  return issues;
}

function checkDistillation(
  f: Parameters<typeof distillationIssues>[0],
  ctx: { addIssue(issue: Issue & { code: 'custom' }): void },
): void {
  for (const issue of distillationIssues(f)) ctx.addIssue({ code: 'custom', ...issue });
}

/** A validated federation definition (durations in milliseconds). */
export type FederationSpec = z.output<typeof federationSpecSchema>;

/** Validates a definition; returns the spec or the list of problems, each naming its field. */
export function parseFederationSpec(
  input: unknown,
): { ok: true; spec: FederationSpec } | { ok: false; problems: string[] } {
  const parsed = federationSpecSchema.safeParse(input);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map(
      (i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`,
    ),
  };
}
