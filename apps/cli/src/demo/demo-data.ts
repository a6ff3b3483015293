import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type Dataset,
  encodeNpy,
  encodeNpyFloat32,
  featureSize,
  loadCsv,
  selectSamples,
} from '@fedistill/data';
import { classificationMetrics, ExperimentRandom, partition, TeacherEnsemble } from '@fedistill/distill';

/**
 * How the demo splits the bundled handwritten digits (1,797 8x8 images, 64 pixel values 0-16,
 * 10 classes; Alpaydin and Kaynak, UCI, see data/README.md): a labelled evaluation slice the
 * coordinator keeps for reporting only (all ten digits), an unlabelled public reference set, and
 * the rest across the hospitals with strong label skew: the records sorted by digit are cut into
 * one shard per hospital and the shards dealt at random (seeded), so each hospital holds three or
 * four of the ten digits (neighbouring shards share a digit) and has never seen the others.
 */
export interface DemoSplit {
  readonly evaluation: Dataset;
  readonly reference: Dataset;
  readonly hospitals: readonly Dataset[];
}

const SEED = 11;
/** Shards of the digit-sorted records each hospital gets (the partition's `shardsPerSite`). */
const SHARDS_PER_HOSPITAL = 1;

export async function splitDemoData(repo: string, hospitals: number): Promise<DemoSplit> {
  const all = (
    await loadCsv(path.join(repo, 'data', 'digits.csv.gz'), { header: false, label: -1, classes: 10 })
  ).dataset;
  const { evaluation, reference, rest } = slices(all);
  const parts = partition(
    rest.labels,
    hospitals,
    { kind: 'shards', shardsPerSite: SHARDS_PER_HOSPITAL },
    SEED,
  );
  return { evaluation, reference, hospitals: parts.map((p) => selectSamples(rest, sortedCopy(p))) };
}

/**
 * The breast-cancer split the demo used before the digits (569 records, 30 features; Wolberg et
 * al., UCI, see data/README.md): evaluation slice, reference set, and the rest across the
 * hospitals with mild label skew (Dirichlet alpha = 1 over the two classes, seeded). The
 * end-to-end and fault tests build their federations on it (two classes, 30 features, label
 * column `diagnosis`: write its files with `writeHospitalCsv(file, d, 'diagnosis')`).
 */
export async function splitBreastCancer(repo: string, hospitals: number): Promise<DemoSplit> {
  const all = (
    await loadCsv(path.join(repo, 'data', 'breast_cancer.csv'), {
      skipLines: 1,
      header: false,
      label: -1,
      classes: 2,
    })
  ).dataset;
  const { evaluation, reference, rest } = slices(all);
  const parts = partition(rest.labels, hospitals, { kind: 'dirichlet', alpha: 1 }, SEED);
  return { evaluation, reference, hospitals: parts.map((p) => selectSamples(rest, sortedCopy(p))) };
}

/** 20% evaluation, 20% reference, the rest for the hospitals, in a seeded order. */
function slices(all: Dataset): { evaluation: Dataset; reference: Dataset; rest: Dataset } {
  const order = new ExperimentRandom(SEED).shuffle(Array.from({ length: all.count }, (_, i) => i));
  const evalCount = Math.round(all.count * 0.2);
  const refCount = Math.round(all.count * 0.2);
  return {
    evaluation: selectSamples(all, sortedCopy(order.slice(0, evalCount))),
    reference: selectSamples(all, sortedCopy(order.slice(evalCount, evalCount + refCount))),
    rest: selectSamples(all, order.slice(evalCount + refCount)),
  };
}

const sortedCopy = (a: Iterable<number>): number[] => [...a].sort((x, y) => x - y);

/** A hospital's records as the CSV file its node reads (header p0.., then the label column). */
export function writeHospitalCsv(file: string, d: Dataset, labelColumn = LABEL_COLUMN): void {
  const per = featureSize(d);
  const header = [...Array.from({ length: per }, (_, i) => `p${i}`), labelColumn].join(',');
  const lines = [header];
  for (let r = 0; r < d.count; r += 1) {
    const row = Array.from(d.features.subarray(r * per, (r + 1) * per), (v) => String(v));
    lines.push([...row, String(d.labels[r])].join(','));
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** The label column of a hospital's CSV file (node.yaml data.labelColumn). */
export const LABEL_COLUMN = 'digit';

/** The classes (digits) of which a hospital holds at least one record, in increasing order. */
export function heldDigits(d: Dataset): number[] {
  const held = new Set<number>(d.labels);
  return [...held].sort((a, b) => a - b);
}

/** NPY bytes of a dataset's inputs, and of its labels as int32 class indices. */
export function npyInputs(d: Dataset): Uint8Array {
  return encodeNpyFloat32([d.count, ...d.featureShape], d.features);
}

export function npyLabels(d: Dataset): Uint8Array {
  return encodeNpy([d.count], d.labels);
}

/**
 * The comparison rows of the demo's table: the student's architecture trained on one hospital's
 * records alone (mean over hospitals) and on all hospitals' records pooled (what no hospital may
 * do: the upper bound), both measured on the coordinator's evaluation slice. Only the demo, which
 * made the split, can compute these; no federation process sees pooled records.
 */
export async function demoBaselines(
  split: DemoSplit,
  student: { hidden: readonly number[]; epochs: number; batchSize: number },
): Promise<{ localOnly: number[]; centralized: number }> {
  const accuracy = async (records: Dataset, seed: number) => {
    const model = await TeacherEnsemble.train(records, {
      teachers: 1,
      hidden: student.hidden,
      epochs: student.epochs,
      batchSize: student.batchSize,
      seed,
      threads: 1,
    });
    try {
      const [probs] = await model.probabilities(split.evaluation.features, split.evaluation.count);
      return classificationMetrics(probs as Float32Array, split.evaluation.labels, records.numClasses)
        .accuracy;
    } finally {
      await model.dispose();
    }
  };
  const localOnly: number[] = [];
  for (const [i, h] of split.hospitals.entries()) localOnly.push(await accuracy(h, SEED + i));
  const pooled = pool(split.hospitals);
  return { localOnly, centralized: await accuracy(pooled, SEED + 100) };
}

function pool(parts: readonly Dataset[]): Dataset {
  const first = parts[0];
  if (!first) throw new RangeError('no hospitals');
  const count = parts.reduce((n, p) => n + p.count, 0);
  const per = featureSize(first);
  const features = new Float32Array(count * per);
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    features.set(p.features, at * per);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { features, labels, count, featureShape: first.featureShape, numClasses: first.numClasses };
}
