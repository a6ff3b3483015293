// Over 300 lines on purpose: node.yaml is parsed in one place (schema, defaults, cross-field rules
// and the frozen typed result), as STYLE.md asks of configuration; splitting it would scatter that.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { dataFormatFromName } from '@fedistill/data';
import type { TrustAssumption } from '@fedistill/distill';
import { assertSiteName, parseDuration } from '@fedistill/identity';
import { metricsConfigOf, metricsSection, type NodeMetricsConfig } from './metrics/node-metrics-config';

/** A node directory or configuration that cannot be used; the message names the setting. */
export class NodeConfigError extends Error {
  override readonly name = 'NodeConfigError';
}

/** Files of a node directory. */
export const NODE_FILES = {
  config: 'node.yaml',
  keys: 'site.key',
  ca: 'ca.crt',
  enrolment: 'enrolment.json',
  auditLog: 'audit-log.db',
} as const;

const outputKind = z.enum(['logits', 'probabilities']);

/** One entry of teachers.onnx: a path, or a path with the input and output to use. */
const onnxTeacher = z.union([
  z.string().min(1),
  z
    .object({
      path: z.string().min(1),
      input: z.string().min(1).optional(),
      output: z.string().min(1).optional(),
      outputKind: outputKind.optional(),
    })
    .strict(),
]);

const schema = z
  .object({
    site: z.string().superRefine((v, ctx) => {
      try {
        assertSiteName(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
    coordinator: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be HOST:PORT'),
    ca: z.string().min(1).default(NODE_FILES.ca),
    serverName: z.string().min(1).optional(),
    reconnect: z
      .object({ initialDelay: z.string().default('500ms'), maxDelay: z.string().default('30s') })
      .strict()
      .prefault({}),
    audit: z
      .object({ anchorInterval: z.string().default('60s') })
      .strict()
      .prefault({}),
    /**
     * `retainFreedHeap: true` lets glibc keep freed heap instead of returning it to the kernel
     * (libs/secagg/src/prg.ts, enableHeapRetention): masking at d = 10^6 is about 3x faster under
     * load, but freed buffers that held this site's noised summary and masks stay resident in
     * the process. Off by default; see docs/benchmarks.md (secagg) and docs/threat-model.md.
     */
    performance: z
      .object({ retainFreedHeap: z.boolean().default(false) })
      .strict()
      .prefault({}),
    data: z
      .object({
        /** Training records: CSV (features + a label column), or NPY/IDX features with `labels`. */
        train: z.string().min(1),
        labels: z.string().min(1).optional(),
        format: z.enum(['csv', 'npy', 'idx']).optional(),
        /** CSV: the label column, a name (needs a header) or an index (negative from the end). */
        labelColumn: z.union([z.string().min(1), z.number().int()]).default(-1),
        header: z.boolean().default(true),
        /** Labels are class indices (0..k-1) or the federation's label names. */
        labelValues: z.enum(['index', 'name']).default('index'),
        /** The site's local test split: a file like `train`, or a held-out fraction of it. */
        test: z.string().min(1).optional(),
        testLabels: z.string().min(1).optional(),
        testFraction: z.number().min(0).max(0.9).default(0.2),
        seed: z.number().int().min(0).default(1),
      })
      .strict()
      .optional(),
    teachers: z
      .object({
        /** k disjoint partitions of the site's records, one teacher each (record-level privacy). */
        count: z.number().int().min(1).max(1000).default(4),
        hidden: z.array(z.number().int().min(1).max(8192)).max(8).default([32]),
        epochs: z.number().int().min(1).max(10000).default(30),
        batchSize: z.number().int().min(1).max(65536).default(32),
        learningRate: z.number().positive().max(10).default(0.01),
        /**
         * Learning-rate schedule of each teacher's training: constant, or cosine annealing to zero
         * (which needs enough steps: with a few dozen it under-trains small partitions).
         */
        schedule: z.enum(['constant', 'cosine']).default('constant'),
        seed: z.number().int().min(0).default(1),
        /**
         * Teachers trained together in one ONNX graph and session (each still on its own partition
         * only, libs/distill/src/stacked-teachers.ts); 1 trains them one by one. Lower it if a
         * graph of that many teachers does not fit the device's memory.
         */
        perGraph: z.number().int().min(1).max(1000).default(64),
        /**
         * Teachers abstain (no vote, a zero vector) on queries unlike their own partition
         * (libs/distill abstention.ts); off when absent. `fraction`: the share of the public
         * reference inputs each teacher answers, the nearest to its records; default the share
         * of the classes its partition holds. Costs no privacy (docs/privacy.md).
         */
        abstain: z
          .object({ fraction: z.number().gt(0, 'must be > 0').max(1, 'must be <= 1').optional() })
          .strict()
          .optional(),
        /**
         * Site-provided ONNX teachers instead of training: each a path (relative to the node
         * directory) or { path, input, output, outputKind } naming the input and output to use
         * when the model has several. Each must have been trained on its own disjoint partition of
         * the site's records, preprocessing included: the site's promise (docs/threat-model.md).
         */
        onnx: z.array(onnxTeacher).min(1).max(1000).optional(),
        /** What the ONNX teachers' outputs hold, unless an entry says otherwise (default logits). */
        outputKind: outputKind.optional(),
      })
      .strict()
      .superRefine((t, ctx) => {
        if (t.outputKind !== undefined && t.onnx === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['outputKind'],
            message: 'applies to site-provided ONNX teachers only; set teachers.onnx or remove it',
          });
        if (t.abstain !== undefined && t.onnx !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['abstain'],
            message:
              "applies to teachers trained here only (the node does not know site-provided ONNX teachers' partitions); remove it or teachers.onnx",
          });
      })
      .prefault({}),
    executionProvider: z.enum(['cpu', 'webgpu', 'cuda', 'auto']).default('cpu'),
    privacy: z
      .object({
        /** The most cumulative epsilon this site's records may ever spend, over all federations. */
        epsilonLimit: z.number().positive().max(1e6).default(8),
        /** The delta the site measures epsilon at. */
        delta: z.number().positive().lt(1).default(1e-5),
        /** Answer rounds without noise (experiments only). */
        allowNonPrivate: z.boolean().default(false),
        /**
         * Whose noise the ledger counts on: 'paranoid' (the default; only this site's own share,
         * which needs no trust in anybody) or 'colluders' (also the honest others' shares, with
         * at most `assumedColluders` of a round's participants colluding with the coordinator).
         */
        trust: z.enum(['paranoid', 'colluders']).optional(),
        assumedColluders: z.number().int().min(0).max(1000).optional(),
      })
      .strict()
      .superRefine((p, ctx) => {
        if (p.trust === 'colluders' && p.assumedColluders === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['assumedColluders'],
            message:
              "is required with privacy.trust 'colluders' (how many participants may collude with the coordinator)",
          });
        if (p.trust === 'paranoid' && p.assumedColluders !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['assumedColluders'],
            message:
              "conflicts with privacy.trust 'paranoid' (which counts only this site's own noise share); remove one of them",
          });
      })
      .prefault({}),
    /**
     * The smallest rounds this site joins, whatever the coordinator announces (checked on every
     * announcement, with the approved roster). Two participants would let each learn the other's
     * input from the sum, so at least 3; a Shamir threshold of 1 would let any one neighbour (or
     * the coordinator with one share) rebuild a site's mask secrets, so at least 2. The threshold
     * must also be a strict majority of a site's masking neighbours (always enforced): otherwise a
     * coordinator that tells two halves of the neighbours different survivor stories collects a
     * site's self-mask seed and its mask key at once (Bonawitz et al., CCS 2017, §6: t > (n + C)/2).
     */
    security: z
      .object({
        minParticipants: z.number().int().min(2).max(255).default(3),
        minThreshold: z.number().int().min(2).max(255).default(2),
      })
      .strict()
      .prefault({}),
    /**
     * Dropout drill: in every round (or only in the listed round numbers, as `round status`
     * shows them) the node stops after sending this stage's message, as if it had crashed there
     * (to rehearse a federation's dropout tolerance). Never set in production.
     */
    drill: z
      .object({
        stopAfter: z.enum(['keys', 'shares', 'input']),
        rounds: z.array(z.number().int().min(1)).min(1).optional(),
      })
      .strict()
      .optional(),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    /** Prometheus metrics of this node (metrics/node-metrics-config.ts); absent: none are served. */
    metrics: metricsSection.optional(),
  })
  .strict();

/** A node's settings; paths absolute, durations in milliseconds. */
export interface NodeConfig {
  readonly dir: string;
  readonly site: string;
  readonly coordinator: string;
  readonly caFile: string;
  readonly serverName: string | undefined;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  /** How often the node exchanges signed log heads with the coordinator. */
  readonly anchorIntervalMs: number;
  /** performance.retainFreedHeap: opt in to glibc heap retention (faster masking, see above). */
  readonly retainFreedHeap: boolean;
  readonly logLevel: string;
  /** The site's private records, or null when the node only joins federations (it declines rounds). */
  readonly data: SiteDataConfig | null;
  readonly teachers: TeacherConfig;
  readonly executionProvider: 'cpu' | 'webgpu' | 'cuda' | 'auto';
  readonly privacy: {
    readonly epsilonLimit: number;
    readonly delta: number;
    readonly allowNonPrivate: boolean;
    /** Whose noise shares the site's ledger counts on (privacy.trust, privacy.assumedColluders). */
    readonly trust: TrustAssumption;
  };
  /** The smallest round (participants) and Shamir threshold this site accepts (node.yaml security). */
  readonly security: { readonly minParticipants: number; readonly minThreshold: number };
  /** A dropout drill: stop answering each round (each of `drillRounds`) after this stage. */
  readonly drillStopAfter: 'keys' | 'shares' | 'input' | undefined;
  /** The round numbers the drill applies in; absent: every round. */
  readonly drillRounds?: readonly number[];
  /** Where to serve the node's metrics (node.yaml metrics.listen); null or absent: nowhere. */
  readonly metrics?: NodeMetricsConfig | null;
}

/** Where a site's records are and how to read them (paths absolute). */
export interface SiteDataConfig {
  readonly train: string;
  readonly labels: string | undefined;
  readonly format: 'csv' | 'npy' | 'idx';
  readonly labelColumn: string | number;
  readonly header: boolean;
  readonly labelValues: 'index' | 'name';
  readonly test: string | undefined;
  readonly testLabels: string | undefined;
  readonly testFraction: number;
  readonly seed: number;
}

export interface TeacherConfig {
  readonly count: number;
  readonly hidden: readonly number[];
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly schedule: 'constant' | 'cosine';
  readonly seed: number;
  /** Teachers per training graph (1: one by one). */
  readonly perGraph: number;
  /** Teachers abstain on queries unlike their partition (undefined: off). */
  readonly abstain?: { readonly fraction?: number };
  /** Site-provided ONNX teachers, or undefined to train. */
  readonly onnx: readonly OnnxTeacherFile[] | undefined;
}

/** A site-provided ONNX teacher (node.yaml teachers.onnx). */
export interface OnnxTeacherFile {
  /** Absolute path. */
  readonly path: string;
  /** The input to feed and the output to read; needed only when the model has several. */
  readonly input: string | undefined;
  readonly output: string | undefined;
  /** What the output holds: the entry's outputKind, else teachers.outputKind, else logits. */
  readonly outputKind: 'logits' | 'probabilities';
}

/** teachers.outputKind is folded into each ONNX entry. */
function teacherConfig(abs: string, t: z.output<typeof schema>['teachers']): TeacherConfig {
  const { outputKind, ...settings } = t;
  const onnx = t.onnx?.map((e) => {
    const entry = typeof e === 'string' ? { path: e } : e;
    return Object.freeze({
      path: path.resolve(abs, entry.path),
      input: entry.input,
      output: entry.output,
      outputKind: entry.outputKind ?? outputKind ?? 'logits',
    });
  });
  return Object.freeze({ ...settings, onnx });
}

function formatOf(file: string, given: 'csv' | 'npy' | 'idx' | undefined): 'csv' | 'npy' | 'idx' {
  const format = given ?? dataFormatFromName(file);
  if (format) return format;
  throw new NodeConfigError(`data.format: cannot tell the format of ${file}; set csv, npy or idx`);
}

function dataConfig(abs: string, d: z.output<typeof schema>['data']): SiteDataConfig | null {
  if (!d) return null;
  const format = formatOf(d.train, d.format);
  if (format !== 'csv' && !d.labels) throw new NodeConfigError(`data.labels: required with format ${format}`);
  if (d.test && format !== 'csv' && !d.testLabels)
    throw new NodeConfigError(`data.testLabels: required with format ${format}`);
  const file = (f: string | undefined) => (f === undefined ? undefined : path.resolve(abs, f));
  return Object.freeze({
    train: path.resolve(abs, d.train),
    labels: file(d.labels),
    format,
    labelColumn: d.labelColumn,
    header: d.header,
    labelValues: d.labelValues,
    test: file(d.test),
    testLabels: file(d.testLabels),
    testFraction: d.testFraction,
    seed: d.seed,
  });
}

function durationSetting(value: string, name: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new NodeConfigError(`${name}: ${(err as Error).message}`);
  }
}

/** Setting assumedColluders alone means trust 'colluders'; neither means 'paranoid'. */
function trustOf(p: { trust?: 'paranoid' | 'colluders'; assumedColluders?: number }): TrustAssumption {
  return p.assumedColluders === undefined
    ? Object.freeze({ kind: 'paranoid' as const })
    : Object.freeze({ kind: 'colluders' as const, colluders: p.assumedColluders });
}

/** Reads and validates DIR/node.yaml. */
export function loadNodeConfig(dir: string): NodeConfig {
  const file = path.join(dir, NODE_FILES.config);
  if (!fs.existsSync(file))
    throw new NodeConfigError(`${file} does not exist: run \`fedistill node init --dir ${dir} ...\` first`);
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new NodeConfigError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new NodeConfigError(`invalid node configuration in ${file}:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const abs = path.resolve(dir);
  return Object.freeze({
    dir: abs,
    site: c.site,
    coordinator: c.coordinator,
    caFile: path.resolve(abs, c.ca),
    serverName: c.serverName,
    reconnect: Object.freeze({
      initialDelayMs: durationSetting(c.reconnect.initialDelay, 'reconnect.initialDelay'),
      maxDelayMs: durationSetting(c.reconnect.maxDelay, 'reconnect.maxDelay'),
    }),
    anchorIntervalMs: durationSetting(c.audit.anchorInterval, 'audit.anchorInterval'),
    retainFreedHeap: c.performance.retainFreedHeap,
    logLevel: c.log.level,
    data: dataConfig(abs, c.data),
    teachers: teacherConfig(abs, c.teachers),
    executionProvider: c.executionProvider,
    privacy: Object.freeze({
      epsilonLimit: c.privacy.epsilonLimit,
      delta: c.privacy.delta,
      allowNonPrivate: c.privacy.allowNonPrivate,
      trust: trustOf(c.privacy),
    }),
    security: Object.freeze({ ...c.security }),
    drillStopAfter: c.drill?.stopAfter,
    ...(c.drill?.rounds ? { drillRounds: Object.freeze([...c.drill.rounds]) } : {}),
    metrics: metricsConfigOf(c.metrics),
  });
}

/** Writes a fresh node.yaml (used by `fedistill node init`). */
export function writeNodeConfig(
  dir: string,
  settings: { site: string; coordinator: string; serverName?: string },
): string {
  const file = path.join(dir, NODE_FILES.config);
  const body = {
    site: settings.site,
    coordinator: settings.coordinator,
    ca: NODE_FILES.ca,
    ...(settings.serverName ? { serverName: settings.serverName } : {}),
    reconnect: { initialDelay: '500ms', maxDelay: '30s' },
    audit: { anchorInterval: '60s' },
    security: { minParticipants: 3, minThreshold: 2 },
    log: { level: 'info' },
  };
  fs.writeFileSync(
    file,
    `# fedistill node configuration (see README, "Running a node")\n${stringify(body)}`,
    { mode: 0o600, flag: 'wx' },
  );
  return file;
}
