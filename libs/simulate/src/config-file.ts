import * as path from 'node:path';
import { z } from 'zod';
import { dataFormatFromName } from '@fedistill/data';
import { featuresSpecSchema } from '@fedistill/protocol';
import { featureSpecOf } from '@fedistill/features';
import { type SimulationConfig, type SimulationDataset, validateSimulationConfig } from './config';
import { legacyNameProblems } from './legacy-names';
import { checkEpsilonCapOf, completeDefinition, declaredLabels, settingsOf } from './simulated-federation';

/** A simulation configuration file that cannot be used; the message names the setting. */
export class SimulationConfigError extends RangeError {
  override readonly name = 'SimulationConfigError';
}

const count = z.number().int().min(1);
const widths = z.array(count).min(1);

const builtin = z.discriminatedUnion('name', [
  z.object({ name: z.literal('breast-cancer') }).strict(),
  z.object({ name: z.literal('digits') }).strict(),
  z
    .object({
      name: z.literal('fashion-mnist'),
      directory: z.string().min(1).default('/usr/share/datasets/fashion-mnist'),
      limit: count.optional(),
    })
    .strict(),
]);

const file = z.string().min(1);

const outputKind = z.enum(['logits', 'probabilities']);

/** An entry of a site's ONNX teacher list: node.yaml teachers.onnx's form (a path, or the path with names). */
const onnxTeacher = z.union([
  file,
  z
    .object({
      path: file,
      input: z.string().min(1).optional(),
      output: z.string().min(1).optional(),
      outputKind: outputKind.optional(),
    })
    .strict(),
]);

/** The user's own files, with the names and defaults of node.yaml's `data` section. */
const dataFiles = z
  .object({
    kind: z.literal('files'),
    train: file,
    labels: file.optional(),
    format: z.enum(['csv', 'npy', 'idx']).optional(),
    labelColumn: z.union([z.string().min(1), z.number().int()]).default(-1),
    header: z.boolean().default(true),
    labelValues: z.enum(['index', 'name']).default('index'),
    test: file.optional(),
    testLabels: file.optional(),
    classes: z.union([z.number().int().min(2), z.array(z.string().min(1)).min(2)]).optional(),
  })
  .strict();

/** node.yaml `data` settings that the simulation sets at the top level instead. */
const NODE_ONLY: Record<string, string> = {
  testFraction: "set the top-level 'testFraction' (the simulation's held-out test split)",
  seed: "set the top-level 'partitionSeed' (it seeds the test, reference and site split)",
};

/**
 * `dataset`: a built-in name (`digits`), a built-in object (`{ name: digits }`), or the user's
 * files (`{ kind: files, train, ... }`). Dispatched by hand so that errors name the field of the
 * form the user meant instead of a union's summary.
 */
const dataset = z.unknown().transform((v, ctx): RawDataset => {
  const isObject = typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject && (v as { kind?: unknown }).kind === 'files') {
    const extra = Object.keys(v).filter((k) => k in NODE_ONLY);
    for (const k of extra) ctx.addIssue({ code: 'custom', path: [k], message: NODE_ONLY[k]! });
    if (extra.length) return z.NEVER;
    return copyIssues(dataFiles.safeParse(v), ctx);
  }
  if (typeof v === 'string') {
    const r = builtin.safeParse({ name: v });
    if (r.success) return r.data;
    ctx.addIssue({
      code: 'custom',
      message: `'${v}' is not a built-in data set (breast-cancer, digits, fashion-mnist); for your own files use { kind: files, train: FILE, ... }`,
    });
    return z.NEVER;
  }
  return copyIssues(builtin.safeParse(v), ctx);
});

type RawDataset = z.output<typeof builtin> | z.output<typeof dataFiles>;

function copyIssues<T>(r: z.ZodSafeParseResult<T>, ctx: z.RefinementCtx): T {
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ ...issue, code: 'custom', path: issue.path });
  return z.NEVER;
}

/** A simulated dropout: in round `round` (1-based) site `site` (0-based) goes silent before `stage`. */
const dropout = z
  .object({
    round: count,
    site: z.number().int().min(0),
    stage: z.enum(['keys', 'shares', 'input', 'unmask']),
  })
  .strict();

/**
 * A simulation: a federation definition (`federation`, read with the deployment's own schema)
 * plus what only a simulation has: the sites and their data, how the sites train their
 * teachers (node.yaml's `teachers` names), dropouts, baselines and seeds.
 */
const schema = z
  .object({
    dataset,
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
        /** node.yaml teachers.count; required unless `onnx` is given (then it defaults to the longest list). */
        count: count.optional(),
        hidden: widths.default([32]),
        epochs: count.default(30),
        batchSize: count.default(16),
        /** One list per site of its ONNX teachers, each entry in node.yaml's form. */
        onnx: z.array(z.array(onnxTeacher).min(1)).min(1).optional(),
        outputKind: outputKind.optional(),
        schedule: z.enum(['constant', 'cosine']).optional(),
        /** node.yaml teachers.abstain: teachers answer only the queries nearest their own records. */
        abstain: z
          .object({ fraction: z.number().gt(0, 'must be > 0').max(1, 'must be <= 1').optional() })
          .strict()
          .optional(),
      })
      .strict()
      .superRefine((t, ctx) => {
        if (t.count === undefined && t.onnx === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['count'],
            message:
              'is required (teachers each site trains, node.yaml teachers.count), unless teachers.onnx lists the sites’ own models',
          });
      }),
    /** The federation definition, as `coordinator federation create` reads it (checked below). */
    federation: z.record(z.string(), z.unknown()),
    referenceSize: count,
    testFraction: z.number().gt(0).max(0.5).default(0.2),
    dropouts: z.array(dropout).optional(),
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

/** Makes the dataset's paths absolute (relative to `baseDir`) and settles the files' format. */
function resolveDataset(d: RawDataset, baseDir: string, source: string): SimulationDataset {
  const abs = (f: string | undefined) => (f === undefined ? undefined : path.resolve(baseDir, f));
  if ('name' in d)
    return d.name === 'fashion-mnist' ? { ...d, directory: path.resolve(baseDir, d.directory) } : d;
  const format = d.format ?? dataFormatFromName(d.train);
  if (!format)
    throw new SimulationConfigError(
      `${source}: dataset.format: cannot tell the format of ${d.train}; set csv, npy or idx`,
    );
  const files = { ...d, format, train: path.resolve(baseDir, d.train) };
  for (const k of ['labels', 'test', 'testLabels'] as const) if (d[k] !== undefined) files[k] = abs(d[k]);
  return files;
}

/** ONNX teacher entries as objects with absolute paths; perSite defaults to the longest list. */
function resolveTeachers(
  t: z.output<typeof schema>['teachers'],
  baseDir: string,
): SimulationConfig['teachers'] {
  const { onnx, count: perSite, ...rest } = t;
  if (!onnx) return { ...rest, perSite: perSite as number };
  const lists = onnx.map((list) =>
    list.map((e) => {
      const entry = typeof e === 'string' ? { path: e } : e;
      return { ...entry, path: path.resolve(baseDir, entry.path) };
    }),
  );
  return { ...rest, perSite: perSite ?? Math.max(...lists.map((l) => l.length)), onnx: lists };
}

/**
 * Parses a configuration read from a file (YAML or JSON, already decoded), fills in defaults and
 * checks every rule. Its `federation` section is a federation definition, read by the
 * deployment's own parser (parseFederationSpec) with the data-derived fields filled in by the
 * simulation, so it is refused for what `federation create` refuses, with the same messages,
 * and a simulation whose rounds would pass the definition's privacy.epsilonCap is refused as the
 * coordinator would refuse its round. Settings under the simulator's old names are refused,
 * naming the new one (legacy-names.ts). Paths of the data set and of the ONNX teachers are
 * resolved against `o.baseDir` (the configuration file's directory; default the working
 * directory). Throws SimulationConfigError naming the setting, prefixed with `source`.
 */
export function parseSimulationConfig(
  raw: unknown,
  source = 'config',
  o: { readonly baseDir?: string } = {},
): SimulationConfig {
  const fail = (lines: readonly string[]) => new SimulationConfigError(`${source}: ${lines.join('; ')}`);
  const renamed = legacyNameProblems(raw);
  if (renamed.length) throw fail(renamed);
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw fail(parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`));
  const c = parsed.data;
  const teachers = resolveTeachers(c.teachers, o.baseDir ?? '.');
  // `features` is checked against the input shape once the data is loaded (federation-terms.ts):
  // here, before it, only its own fields are.
  const { features: writtenFeatures, ...withoutFeatures } = c.federation;
  const features = featuresOf(writtenFeatures, fail);
  const federation = completeDefinition(withoutFeatures, {
    sites: c.sites,
    labels: declaredLabels(c.dataset),
    seed: c.seed,
    threads: c.threads,
    maxTeachersPerSite: teachers.onnx ? Math.max(...teachers.onnx.map((l) => l.length)) : teachers.perSite,
  });
  if (!federation.ok) throw fail(federation.problems);
  const dataset = resolveDataset(c.dataset, o.baseDir ?? '.', source);
  let config: SimulationConfig;
  try {
    config = {
      ...settingsOf(federation.spec, c.sites, c.dropouts),
      ...(features ? { features } : {}),
      dataset,
      sites: c.sites,
      partition: c.partition,
      partitionSeed: c.partitionSeed,
      teachers,
      referenceSize: c.referenceSize,
      testFraction: c.testFraction,
      baselines: c.baselines,
      seed: c.seed,
      ...(c.threads === undefined ? {} : { threads: c.threads }),
      federation: c.federation,
    };
    validateSimulationConfig(config);
    checkEpsilonCapOf(federation.spec, c.sites);
  } catch (err) {
    if (err instanceof RangeError) throw new SimulationConfigError(`${source}: ${err.message}`);
    throw err;
  }
  return config;
}

/** The federation's `features` section checked on its own (its rules against the input shape come later). */
function featuresOf(
  written: unknown,
  fail: (lines: readonly string[]) => Error,
): SimulationConfig['features'] | undefined {
  if (written === undefined) return undefined;
  const parsed = featuresSpecSchema.safeParse(written);
  if (!parsed.success)
    throw fail(
      parsed.error.issues.map((i) => `federation.${['features', ...i.path].join('.')}: ${i.message}`),
    );
  return featureSpecOf(parsed.data);
}
