import { type Dataset, encodeNpy, featureSize, selectSamples } from '@fedistill/data';
import { ExperimentRandom, partition, type PartitionSpec } from '@fedistill/distill';
import { CliError } from '../cli-error';
import type { OutputFile } from './output-folder';
import { type LabelCount, labelCounts, type SourceRecords } from './source-file';

/** How records are dealt to sites (the simulator's partitions: iid, dirichlet, quantity). */
export type PartitionName = 'iid' | 'label-skew' | 'quantity-skew';

/** The file format written: CSV (features then the label column) or NPY features and labels. */
export type RecordFormat = 'csv' | 'npy';

/** One set of records written for a node: file names (in the output folder) and node.yaml `data`. */
export interface WrittenRecords {
  readonly records: number;
  readonly labels: readonly LabelCount[];
  readonly files: readonly string[];
  /** node.yaml `data` settings for these files (paths relative to the output folder). */
  readonly data: Readonly<Record<string, string | number | boolean>>;
}

/** The float32 `v` in the fewest digits that read back as the same float32. */
export function float32Text(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p < 10; p += 1) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

function csvFile(name: string, d: Dataset, src: SourceRecords): { file: OutputFile; labelColumn: string } {
  const per = featureSize(d);
  const features = src.featureNames ?? Array.from({ length: per }, (_, i) => `f${i}`);
  const labelColumn = src.labelName ?? 'label';
  const lines = [[...features, labelColumn].join(',')];
  for (let r = 0; r < d.count; r += 1) {
    const row = Array.from(d.features.subarray(r * per, (r + 1) * per), float32Text);
    lines.push([...row, String(d.labels[r])].join(','));
  }
  return { file: { name, contents: `${lines.join('\n')}\n` }, labelColumn };
}

/** `d` as files a node reads as they are: `<base>.csv`, or `<base>.npy` and `<base>.labels.npy`. */
export function recordFiles(
  base: string,
  d: Dataset,
  src: SourceRecords,
  to: RecordFormat,
): { files: OutputFile[]; written: WrittenRecords } {
  const labels = labelCounts(d, src.classNames);
  if (to === 'csv') {
    const { file, labelColumn } = csvFile(`${base}.csv`, d, src);
    return {
      files: [file],
      written: { records: d.count, labels, files: [file.name], data: { train: file.name, labelColumn } },
    };
  }
  const x = { name: `${base}.npy`, contents: encodeNpy([d.count, ...d.featureShape], d.features) };
  const y = { name: `${base}.labels.npy`, contents: encodeNpy([d.count], d.labels) };
  return {
    files: [x, y],
    written: { records: d.count, labels, files: [x.name, y.name], data: { train: x.name, labels: y.name } },
  };
}

function partitionSpec(name: PartitionName, alpha: number | undefined): PartitionSpec {
  if (name === 'iid') {
    if (alpha !== undefined)
      throw new CliError('--alpha applies to label-skew and quantity-skew, not iid', 2);
    return { kind: 'iid' };
  }
  const a = alpha ?? 1;
  if (!(a > 0) || !Number.isFinite(a)) throw new CliError(`--alpha ${a} must be a number > 0`, 2);
  return name === 'label-skew' ? { kind: 'dirichlet', alpha: a } : { kind: 'quantity', alpha: a };
}

/** `fedistill data split`'s settings. */
export interface SplitRequest {
  readonly sites: number;
  readonly partition: PartitionName;
  readonly alpha?: number;
  readonly seed: number;
  readonly to: RecordFormat;
}

/**
 * Deals the records to `sites` sites with the simulator's partitions (libs/distill partition:
 * the same seed and records give the same sites as `fedistill simulate`), one set of files a site.
 * @throws CliError when a site would hold no records.
 */
export function splitRecords(
  src: SourceRecords,
  req: SplitRequest,
): { files: OutputFile[]; sites: WrittenRecords[] } {
  const spec = partitionSpec(req.partition, req.alpha);
  const d = src.dataset;
  if (d.count < req.sites)
    throw new CliError(`${d.count} records cannot be split across ${req.sites} sites`, 1);
  const parts = partition(d.labels, req.sites, spec, req.seed);
  const empty = parts.findIndex((p) => p.length === 0);
  if (empty >= 0)
    throw new CliError(
      `site-${empty + 1} would hold no records (${req.partition}, alpha ${req.alpha ?? 1}, seed ${req.seed}); give a larger --alpha or another --seed`,
      1,
    );
  const files: OutputFile[] = [];
  const sites = parts.map((p, s) => {
    const out = recordFiles(`site-${s + 1}`, selectSamples(d, p), src, req.to);
    files.push(...out.files);
    return out.written;
  });
  return { files, sites };
}

/** `fedistill data holdout`'s settings. */
export interface HoldoutRequest {
  readonly reference: number;
  readonly evaluation: number;
  readonly seed: number;
  readonly to: RecordFormat;
}

/** What `fedistill data holdout` wrote: file names in the output folder. */
export interface HoldoutResult {
  readonly reference: {
    readonly file: string;
    readonly rows: number;
    readonly shape: readonly number[];
  } | null;
  readonly evaluation: {
    readonly inputs: string;
    readonly labels: string;
    readonly rows: number;
    readonly labelCounts: readonly LabelCount[];
  } | null;
  readonly remainder: WrittenRecords;
}

const sorted = (a: number[]) => a.sort((x, y) => x - y);

/**
 * Holds out `evaluation` then `reference` records after a seeded shuffle, as the simulator does
 * (libs/simulate data.ts: its test set, then its reference set, with the same seed), and keeps
 * the rest, in file order, for `fedistill data split`. Reference inputs are float32 NPY
 * [rows, ...shape] without labels; the evaluation set is float32 inputs and int32 labels.
 */
export function holdoutRecords(
  src: SourceRecords,
  req: HoldoutRequest,
): { files: OutputFile[]; result: HoldoutResult } {
  const d = src.dataset;
  const held = req.reference + req.evaluation;
  if (held === 0) throw new CliError('--reference and --evaluation are both 0: nothing to hold out', 2);
  if (held >= d.count)
    throw new CliError(
      `${d.count} records are too few: --reference ${req.reference} + --evaluation ${req.evaluation} leave none for the sites`,
      1,
    );
  const order = new ExperimentRandom(req.seed).shuffle(Array.from({ length: d.count }, (_, i) => i));
  const evaluation = selectSamples(d, sorted(order.slice(0, req.evaluation)));
  const reference = selectSamples(d, sorted(order.slice(req.evaluation, held)));
  const rest = recordFiles('remainder', selectSamples(d, sorted(order.slice(held))), src, req.to);
  const files: OutputFile[] = [...rest.files];
  const shape = [reference.count, ...d.featureShape];
  if (req.reference) files.push({ name: 'reference.npy', contents: encodeNpy(shape, reference.features) });
  if (req.evaluation) {
    files.push(
      {
        name: 'evaluation-inputs.npy',
        contents: encodeNpy([evaluation.count, ...d.featureShape], evaluation.features),
      },
      { name: 'evaluation-labels.npy', contents: encodeNpy([evaluation.count], evaluation.labels) },
    );
  }
  const result: HoldoutResult = {
    reference: req.reference ? { file: 'reference.npy', rows: reference.count, shape } : null,
    evaluation: req.evaluation
      ? {
          inputs: 'evaluation-inputs.npy',
          labels: 'evaluation-labels.npy',
          rows: evaluation.count,
          labelCounts: labelCounts(evaluation, src.classNames),
        }
      : null,
    remainder: rest.written,
  };
  return { files, result };
}
