import * as path from 'node:path';
import { type Dataset, loadCsv, loadIdxDataset, selectSamples } from '@fedistill/data';
import { partition } from '@fedistill/distill';
import { ExperimentRandom } from '@fedistill/distill';
import type { SimulationConfig } from './config';

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

// Repository root, from libs/distill/src/simulate (sources) or dist/libs/distill/src/simulate.
function bundled(file: string): string {
  const up = __dirname.includes(`${path.sep}dist${path.sep}`) ? 5 : 4;
  return path.join(__dirname, ...new Array<string>(up).fill('..'), 'data', file);
}

async function loadAll(c: SimulationConfig): Promise<{ train: Dataset; test: Dataset | null }> {
  const d = c.dataset;
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
  // MLPs take flat inputs: [1, 28, 28] images become 784 features.
  const flat = (x: Dataset): Dataset => ({ ...x, featureShape: [x.features.length / x.count] });
  if (d.limit === undefined) return { train: flat(train), test: flat(test) };
  const pick = (x: Dataset, n: number): Dataset =>
    selectSamples(
      flat(x),
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
  if (testCount + c.referenceSize + c.sites > train.count)
    throw new RangeError(
      `'referenceSize' ${c.referenceSize} leaves too few of ${train.count} records for the sites`,
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
      throw new RangeError(
        `site ${s} holds ${p.length} records, fewer than 'teachers.perSite' ${c.teachers.perSite}`,
      );
  });
  return { test: testSet, reference, sites: parts.map((p) => selectSamples(pooled, p)), pooled };
}
