import { z } from 'zod';
import { type SimulationConfig, validateSimulationConfig } from './config';

/** A simulation configuration file that cannot be used; the message names the setting. */
export class SimulationConfigError extends RangeError {
  override readonly name = 'SimulationConfigError';
}

const count = z.number().int().min(1);
const widths = z.array(count).min(1);
const softLabelPrivacy = {
  noiseMultiplier: z.number().positive(),
  clip: z.number().gt(0).max(1).default(1),
  delta: z.number().gt(0).lt(1),
  granularity: z.number().gt(0).max(1).optional(),
  /** C of the noise plan, as in a federation definition; the simulated sites are honest (default 0). */
  assumedColluders: z.union([z.number().int().min(0), z.literal('all')]).optional(),
};

const schema = z
  .object({
    dataset: z.discriminatedUnion('name', [
      z.object({ name: z.literal('breast-cancer') }).strict(),
      z.object({ name: z.literal('digits') }).strict(),
      z
        .object({
          name: z.literal('fashion-mnist'),
          directory: z.string().min(1).default('/usr/share/datasets/fashion-mnist'),
          limit: count.optional(),
        })
        .strict(),
    ]),
    sites: z.number().int().min(2).max(255),
    partition: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('iid') }).strict(),
        z.object({ kind: z.literal('dirichlet'), alpha: z.number().positive() }).strict(),
        z.object({ kind: z.literal('shards'), shardsPerSite: count }).strict(),
        z.object({ kind: z.literal('quantity'), alpha: z.number().positive() }).strict(),
      ])
      .prefault({ kind: 'iid' }),
    partitionSeed: z.number().int().min(0).default(0),
    teachers: z
      .object({
        perSite: count,
        hidden: widths.default([32]),
        epochs: count.default(30),
        batchSize: count.default(16),
      })
      .strict(),
    student: z
      .object({
        hidden: widths.default([32]),
        epochs: count.default(60),
        batchSize: count.default(16),
        temperature: z.number().positive().optional(),
        pseudoLabelThreshold: z.number().gt(0).lt(1).optional(),
      })
      .strict()
      .prefault({}),
    referenceSize: count,
    testFraction: z.number().gt(0).max(0.5).default(0.2),
    rounds: count.default(1),
    revisit: z
      .object({
        digestEpochs: z.number().int().min(0).default(1),
        localEpochs: z.number().int().min(0).default(1),
        learningRate: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    queries: z
      .object({ perRound: count, strategy: z.enum(['random', 'least-confident']).default('random') })
      .strict(),
    summary: z.enum(['soft-labels', 'votes']).default('soft-labels'),
    aggregation: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('mean') }).strict(),
        z.object({ kind: z.literal('era'), temperature: z.number().gt(0).max(1) }).strict(),
        z.object({ kind: z.literal('gnmax'), threshold: z.number().min(0).optional() }).strict(),
      ])
      .prefault({ kind: 'mean' }),
    privacy: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('none') }).strict(),
        z.object({ kind: z.literal('skellam'), ...softLabelPrivacy }).strict(),
        z.object({ kind: z.literal('discrete-gaussian'), ...softLabelPrivacy }).strict(),
      ])
      .prefault({ kind: 'none' }),
    secureAggregation: z
      .object({
        threshold: count.optional(),
        neighbours: z.union([z.literal('all'), count]).default('all'),
        bits: z.number().int().min(8).max(32).default(32),
        toleratedDropouts: z.number().int().min(0).default(0),
        dropouts: z
          .array(
            z
              .object({
                round: count,
                site: z.number().int().min(0),
                stage: z.enum(['keys', 'shares', 'input', 'unmask']),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .prefault({}),
    baselines: z
      .object({
        localOnly: z.boolean().default(false),
        centralized: z.boolean().default(false),
        fedAvg: z
          .object({ rounds: count, localEpochs: count.default(1) })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    seed: z.number().int().min(0).default(0),
    threads: count.optional(),
  })
  .strict();

/**
 * Parses a configuration read from a file (YAML or JSON, already decoded), fills in defaults
 * (the SecAgg threshold defaults to a strict majority of a site's neighbours) and checks every
 * cross-field rule. Throws SimulationConfigError naming the setting, prefixed with `source`.
 */
export function parseSimulationConfig(raw: unknown, source = 'config'): SimulationConfig {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new SimulationConfigError(`${source}: ${lines.join('; ')}`);
  }
  const c = parsed.data;
  const s = c.secureAggregation;
  const degree = s.neighbours === 'all' ? c.sites - 1 : Math.min(s.neighbours, c.sites - 1);
  const config: SimulationConfig = {
    ...c,
    secureAggregation: { ...s, threshold: s.threshold ?? Math.floor(degree / 2) + 1 },
  };
  try {
    validateSimulationConfig(config);
  } catch (err) {
    if (err instanceof RangeError) throw new SimulationConfigError(`${source}: ${err.message}`);
    throw err;
  }
  return config;
}
