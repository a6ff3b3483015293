import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type Dataset,
  DataFormatError,
  featureSize,
  loadCsv,
  loadIdxDataset,
  loadLabelledFile,
  selectSamples,
} from '@fedistill/data';
import { partition } from '@fedistill/distill';
import { ExperimentRandom } from '@fedistill/distill';
import type { SimulationConfig, SimulationDataFiles } from './config';

/** The simulation's data cannot be used: a file is missing or malformed, or too small to split. */
export class SimulationDataError extends Error {
  override readonly name = 'SimulationDataError';
}

/** The data of one simulation: test split, public reference set (labels unused) and per-site records. */
export interface SimulationData {
  readonly test: Dataset;
  /** Public, unlabelled reference inputs (its labels are never read by the simulation). */
  readonly reference: Dataset;
  /** Each site's private records. */
  readonly sites: readonly Dataset[];
  /** All private records pooled (the centralized baseline only). */
  readonly pooled: Dataset;
}

// Repository root, from libs/simulate/src (sources) or dist/libs/simulate/src (built).
function bundled(file: string): string {
  const up = __dirname.includes(`${path.sep}dist${path.sep}`) ? 4 : 3;
  return path.join(__dirname, ...new Array<string>(up).fill('..'), 'data', file);
}

// MLPs take flat inputs: [1, 28, 28] images become 784 features.
const flat = (x: Dataset, numClasses = x.numClasses): Dataset => ({
  ...x,
  featureShape: [featureSize(x)],
  numClasses,
});

/** The declared number of classes (a count, or how many names are listed), if any. */
function classCount(d: SimulationDataFiles): number | undefined {
  return typeof d.classes === 'number' ? d.classes : d.classes?.length;
}

/** Reads one of the user's files (and its labels file), naming the setting in every error. */
async function readFile(d: SimulationDataFiles, role: 'train' | 'test'): Promise<Dataset> {
  const [file, labels] = role === 'train' ? [d.train, d.labels] : [d.test!, d.testLabels];
  const labelsKey = role === 'train' ? 'labels' : 'testLabels';
  if (!fs.existsSync(file)) throw new SimulationDataError(`dataset.${role}: ${file} does not exist`);
  if (labels !== undefined && !fs.existsSync(labels))
    throw new SimulationDataError(`dataset.${labelsKey}: ${labels} does not exist`);
  const classes = d.labelValues === 'name' ? d.classes : classCount(d);
  try {
    return await loadLabelledFile(file, {
      format: d.format,
      labels,
      labelColumn: d.labelColumn,
      header: d.header,
      classes,
    });
  } catch (err) {
    if (err instanceof DataFormatError) throw new SimulationDataError(`dataset.${role}: ${err.message}`);
    throw err;
  }
}

/**
 * The user's files, flattened to one feature vector a record. Without declared classes, k is
 * the largest label + 1 and every class in [0, k) must occur (labels 1..k would leave class 0
 * empty: a sign they are not 0-based indices).
 */
async function loadFiles(d: SimulationDataFiles): Promise<{ train: Dataset; test: Dataset | null }> {
  const train = await readFile(d, 'train');
  const test = d.test === undefined ? null : await readFile(d, 'test');
  if (test && featureSize(test) !== featureSize(train))
    throw new SimulationDataError(
      `dataset.test: ${d.test} has ${featureSize(test)} features per record; ${d.train} has ${featureSize(train)}`,
    );
  if (test?.count === 0) throw new SimulationDataError(`dataset.test: ${d.test} holds no records`);
  const declared = classCount(d);
  const k = declared ?? Math.max(train.numClasses, test?.numClasses ?? 0);
  if (declared === undefined) {
    const seen = new Set([...train.labels, ...(test?.labels ?? [])]);
    const missing = Array.from({ length: k }, (_, i) => i).filter((i) => !seen.has(i));
    if (missing.length)
      throw new SimulationDataError(
        `dataset: labels run to ${k - 1} but class ${missing.join(', ')} never occurs; labels must be class indices 0..k-1 (declare 'dataset.classes' if a class is really absent)`,
      );
  }
  return { train: flat(train, k), test: test && flat(test, k) };
}

async function loadAll(c: SimulationConfig): Promise<{ train: Dataset; test: Dataset | null }> {
  const d = c.dataset;
  if ('kind' in d) return loadFiles(d);
  if (d.name === 'breast-cancer') {
    const t = await loadCsv(bundled('breast_cancer.csv'), {
      skipLines: 1,
      header: false,
      label: -1,
      classes: 2,
    });
    return { train: t.dataset, test: null };
  }
  if (d.name === 'digits') {
    const t = await loadCsv(bundled('digits.csv.gz'), { header: false, label: -1, classes: 10 });
    return { train: t.dataset, test: null };
  }
  if (d.name !== 'fashion-mnist') throw new RangeError(`'dataset.name' ${String(d.name)} is not known`);
  const file = (f: string): string => path.join(d.directory, f);
  const [train, test] = await Promise.all([
    loadIdxDataset(file('train-images-idx3-ubyte.gz'), file('train-labels-idx1-ubyte.gz')),
    loadIdxDataset(file('t10k-images-idx3-ubyte.gz'), file('t10k-labels-idx1-ubyte.gz')),
  ]);
  // Images keep their [28, 28] shape where the federation's scattering transform needs it.
  const shaped = (x: Dataset): Dataset => (c.features?.scattering ? x : flat(x));
  if (d.limit === undefined) return { train: shaped(train), test: shaped(test) };
  const pick = (x: Dataset, n: number): Dataset =>
    selectSamples(
      shaped(x),
      new ExperimentRandom(c.seed + 17).shuffle(range(x.count)).slice(0, Math.min(n, x.count)),
    );
  return { train: pick(train, d.limit), test: pick(test, Math.max(1, Math.round(d.limit / 6))) };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Loads the dataset and splits it, seeded by `partitionSeed`: test records (a `testFraction`
 * slice, or the official test set), `referenceSize` public reference inputs, and the rest
 * partitioned across the sites by `partition`.
 */
export async function loadSimulationData(c: SimulationConfig): Promise<SimulationData> {
  const { train, test } = await loadAll(c);
  const order = new ExperimentRandom(c.partitionSeed).shuffle(range(train.count));
  const testCount = test ? 0 : Math.round(train.count * c.testFraction);
  if (!test && testCount === 0)
    throw new SimulationDataError(
      `dataset: testFraction ${c.testFraction} of ${train.count} records holds out no test record`,
    );
  const needed = testCount + c.referenceSize + c.sites * c.teachers.perSite;
  if (needed > train.count)
    throw new SimulationDataError(
      `dataset: ${train.count} records are too few: test ${testCount} + referenceSize ${c.referenceSize} + ${c.sites} sites x teachers.count ${c.teachers.perSite} need ${needed}`,
    );
  const testSet =
    test ??
    selectSamples(
      train,
      order.slice(0, testCount).sort((a, b) => a - b),
    );
  const reference = selectSamples(
    train,
    order.slice(testCount, testCount + c.referenceSize).sort((a, b) => a - b),
  );
  const privateIdx = order.slice(testCount + c.referenceSize).sort((a, b) => a - b);
  const pooled = selectSamples(train, privateIdx);
  const parts = partition(pooled.labels, c.sites, c.partition, c.partitionSeed);
  parts.forEach((p, s) => {
    if (p.length < c.teachers.perSite)
      throw new SimulationDataError(
        `site ${s} holds ${p.length} records, fewer than 'teachers.count' ${c.teachers.perSite}`,
      );
  });
  return { test: testSet, reference, sites: parts.map((p) => selectSamples(pooled, p)), pooled };
}
