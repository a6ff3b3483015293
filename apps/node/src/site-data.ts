import * as fs from 'node:fs';
import { type Dataset, featureSize, loadLabelledFile, trainValidationSplit } from '@fedistill/data';
import { OnnxTeacherError, TeacherEnsemble } from '@fedistill/distill';
import type { ExecutionProvider } from '@fedistill/engine';
import type { NodeConfig, OnnxTeacherFile, SiteDataConfig } from './node-config';

/** The site cannot take part: its data, teachers or the federation's schema do not fit. */
export class SiteDataError extends Error {
  override readonly name = 'SiteDataError';
}

/** What a site needs from a federation's definition to use its own data with it. */
export interface FederationSchema {
  readonly id: string;
  readonly labels: readonly string[];
  readonly inputShape: readonly number[];
}

/** Reads the parts of a federation definition (as served to members) that the site relies on. */
export function federationSchema(id: string, spec: unknown): FederationSchema {
  const s = spec as { labels?: unknown; input?: { shape?: unknown } };
  const labels = s.labels;
  const shape = s.input?.shape;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string'))
    throw new SiteDataError(`federation '${id}': its definition has no label list`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) > 0))
    throw new SiteDataError(`federation '${id}': its definition has no input.shape`);
  return { id, labels: labels as string[], inputShape: shape as number[] };
}

async function loadSplit(d: SiteDataConfig, file: string, labels: string | undefined, f: FederationSchema) {
  if (!fs.existsSync(file)) throw new SiteDataError(`data: ${file} does not exist`);
  const classes = f.labels.length;
  const data = await loadLabelledFile(file, {
    format: d.format,
    labels,
    labelColumn: d.labelColumn,
    header: d.header,
    classes: d.format === 'csv' && d.labelValues === 'name' ? f.labels : classes,
  });
  const per = f.inputShape.reduce((a, b) => a * b, 1);
  if (featureSize(data) !== per)
    throw new SiteDataError(
      `data: ${file} has ${featureSize(data)} features per record; federation '${f.id}' expects shape [${f.inputShape.join(', ')}] (${per})`,
    );
  if (data.numClasses > classes)
    throw new SiteDataError(
      `data: ${file} has labels up to ${data.numClasses - 1}; federation '${f.id}' has ${classes} classes`,
    );
  return { ...data, featureShape: [...f.inputShape], numClasses: classes };
}

/** A site's records for one federation: training records for its teachers and a local test split. */
export interface SiteData {
  readonly train: Dataset;
  readonly test: Dataset | null;
}

/** Loads the site's records as node.yaml describes them, checked against the federation's schema. */
export async function loadSiteData(config: NodeConfig, f: FederationSchema): Promise<SiteData> {
  const d = config.data;
  if (!d) throw new SiteDataError('node.yaml has no data section: this site has no records to answer with');
  const all = await loadSplit(d, d.train, d.labels, f);
  if (d.test) return { train: all, test: await loadSplit(d, d.test, d.testLabels, f) };
  if (d.testFraction === 0) return { train: all, test: null };
  const { train, validation } = trainValidationSplit(all, d.testFraction, d.seed);
  return { train, test: validation };
}

/** Trains the site's teachers per node.yaml (or loads its ONNX teachers). */
export async function siteTeachers(
  config: NodeConfig,
  f: FederationSchema,
  data: SiteData,
  onProgress?: (p: { teacher: number; epoch: number; loss: number }) => void,
  /** Keep the weights and partitions for digest and revisit (a federation with `revisit`). */
  keepTrainingState = false,
  /** Where the teachers run: node.yaml's executionProvider unless resolved already (site-preparation.ts). */
  provider: ExecutionProvider = config.executionProvider,
): Promise<TeacherEnsemble> {
  const t = config.teachers;
  if (t.onnx) return siteOnnxTeachers(t.onnx, f, provider);
  if (data.train.count < t.count)
    throw new SiteDataError(
      `teachers.count ${t.count} is more than the site's ${data.train.count} training records`,
    );
  return TeacherEnsemble.train(data.train, {
    teachers: t.count,
    hidden: t.hidden,
    epochs: t.epochs,
    batchSize: t.batchSize,
    learningRate: t.learningRate,
    schedule: t.schedule,
    seed: t.seed,
    teachersPerGraph: t.perGraph,
    abstain: t.abstain,
    provider,
    onProgress,
    keepTrainingState,
  });
}

/**
 * The site's own ONNX teachers (node.yaml teachers.onnx), checked against the federation. A
 * model that does not fit is refused with its file, its inputs and outputs, and what was expected.
 */
export async function siteOnnxTeachers(
  files: readonly OnnxTeacherFile[],
  f: FederationSchema,
  provider: ExecutionProvider,
): Promise<TeacherEnsemble> {
  const models = files.map((file) => {
    if (!fs.existsSync(file.path)) throw new SiteDataError(`teachers.onnx: ${file.path} does not exist`);
    return { ...file, file: file.path, model: new Uint8Array(fs.readFileSync(file.path)) };
  });
  try {
    return await TeacherEnsemble.load(models, f.inputShape, f.labels.length, { provider });
  } catch (err) {
    if (!(err instanceof OnnxTeacherError)) throw err;
    const hint =
      err.mismatch === 'names'
        ? '; in node.yaml, write its entry as { path: FILE, input: NAME, output: NAME }'
        : '';
    throw new SiteDataError(`teachers.onnx: ${err.message}${hint} (federation '${f.id}')`);
  }
}
