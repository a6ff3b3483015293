import * as fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  type Dataset,
  DataFormatError,
  dataFormatFromName,
  type LabelledFileFormat,
  type LabelledFileOptions,
  loadCsv,
  loadLabelledFile,
} from '@fedistill/data';
import { CliError } from '../cli-error';

/** How to read a data file: node.yaml's `data` names, as `fedistill data` flags give them. */
export interface DataFileOptions {
  readonly format?: LabelledFileFormat;
  /** NPY/IDX: the labels file. */
  readonly labels?: string;
  /** CSV: a column name or an index (negative from the end). Default -1, as in node.yaml. */
  readonly labelColumn?: string | number;
  /** CSV: the first line holds column names. Default true, as in node.yaml. */
  readonly header?: boolean;
  /** A class count, or the names the label cells hold (node.yaml `labelValues: name`). */
  readonly classes?: number | readonly string[];
}

/**
 * scikit-learn's CSV header (`load_breast_cancer`'s `569,30,malignant,benign`): the row count,
 * the feature count, then the class names in class order; the label is the last column and
 * holds class indices.
 */
export interface SklearnHeader {
  readonly rows: number;
  readonly features: number;
  readonly classNames: readonly string[];
}

/** Records read for splitting: the dataset, its column names and, when known, its class names. */
export interface SourceRecords {
  readonly dataset: Dataset;
  /** Feature column names (CSV with a header), else null. */
  readonly featureNames: readonly string[] | null;
  /** The label column's name (CSV with a header), else null. */
  readonly labelName: string | null;
  readonly classNames: readonly string[] | null;
  readonly sklearn: SklearnHeader | null;
}

/** One label value and how many records hold it (`name`: the class name, when known). */
export interface LabelCount {
  readonly value: string;
  readonly name?: string;
  readonly count: number;
}

/** Counts of each class index 0..k-1 (`name`: from `names`, when given). */
export function labelCounts(d: Dataset, names: readonly string[] | null): LabelCount[] {
  const counts = new Array<number>(d.numClasses).fill(0);
  d.labels.forEach((y) => (counts[y] = (counts[y] ?? 0) + 1));
  return counts.map((count, i) => ({ value: String(i), ...(names?.[i] ? { name: names[i] } : {}), count }));
}

/** The format the node would use: the given one, or the one the file's name tells. */
export function formatOf(file: string, given: LabelledFileFormat | undefined): LabelledFileFormat {
  const format = given ?? dataFormatFromName(file);
  if (format) return format;
  throw new CliError(`cannot tell the format of ${file}; give --format csv, npy or idx`, 2);
}

/** The options node.yaml's `data` section would give the node's reader (libs/data loadLabelledFile). */
export function nodeReadOptions(file: string, o: DataFileOptions): LabelledFileOptions {
  const format = formatOf(file, o.format);
  if (format !== 'csv' && o.labels === undefined)
    throw new CliError(`--labels FILE is required with format ${format} (node.yaml data.labels)`, 2);
  if (format !== 'csv' && (o.labelColumn !== undefined || o.header === false))
    throw new CliError(`--label-column and --no-header apply to CSV files, not ${format}`, 2);
  if (format === 'csv' && o.labels !== undefined)
    throw new CliError('--labels applies to NPY and IDX files; a CSV holds its labels in a column', 2);
  return {
    format,
    labels: o.labels,
    labelColumn: o.labelColumn ?? -1,
    header: o.header ?? true,
    classes: o.classes,
  };
}

/**
 * Reads `file` exactly as a node with these `data` settings does (apps/node/src/site-data.ts):
 * the same existence check and message, then the node's reader. Throws the node's error.
 */
export async function readAsNode(file: string, o: LabelledFileOptions): Promise<Dataset> {
  if (!fs.existsSync(file)) throw new DataFormatError('data', `${file} does not exist`);
  if (o.labels !== undefined && !fs.existsSync(o.labels))
    throw new DataFormatError('data', `labels file ${o.labels} does not exist`);
  return loadLabelledFile(file, o);
}

/** The text of a (possibly gzipped) CSV file. */
export function csvText(file: string): string {
  const bytes = fs.readFileSync(file);
  const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return new TextDecoder().decode(plain);
}

const INTEGER = /^\d+$/;

/**
 * scikit-learn's header, when the first line is one (`N,F,name,...` with two or more names,
 * F + 1 cells in the data lines and N data lines), else null.
 */
export function sklearnHeader(text: string): SklearnHeader | null {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const cells = (lines[0] ?? '').split(',').map((c) => c.trim());
  const [rows, features, ...names] = cells;
  if (!rows || !features || !INTEGER.test(rows) || !INTEGER.test(features) || names.length < 2) return null;
  if (names.some((n) => n === '' || Number.isFinite(Number(n)))) return null;
  const f = Number(features);
  if (Number(rows) !== lines.length - 1 || (lines[1] ?? '').split(',').length !== f + 1) return null;
  return { rows: Number(rows), features: f, classNames: names };
}

/** Options the node would use, refusing flags that contradict scikit-learn's header. */
function sklearnOptions(file: string, o: DataFileOptions, h: SklearnHeader): void {
  const last = o.labelColumn === undefined || o.labelColumn === -1 || o.labelColumn === h.features;
  if (o.header === false || !last)
    throw new CliError(
      `${file} has scikit-learn's header (${h.rows} rows, ${h.features} features, label last): drop --no-header and --label-column`,
      2,
    );
  if (Array.isArray(o.classes))
    throw new CliError(`${file}: its label cells are class indices; its header names the classes`, 2);
}

/**
 * Reads records to split or hold out: as the node reads them, or, for a CSV with
 * scikit-learn's header (the bundled data sets), past that header with its class names.
 * @throws CliError naming the file and the problem (exit 1), or a misused flag (exit 2).
 */
export async function readSource(file: string, o: DataFileOptions): Promise<SourceRecords> {
  const options = nodeReadOptions(file, o);
  if (options.format === 'csv' && fs.existsSync(file)) {
    const text = csvText(file);
    const h = sklearnHeader(text);
    if (h) {
      sklearnOptions(file, o, h);
      const t = await dataError(() =>
        loadCsv(file, { skipLines: 1, header: false, label: -1, classes: o.classes ?? h.classNames.length }),
      );
      return {
        dataset: t.dataset,
        featureNames: null,
        labelName: null,
        classNames: h.classNames,
        sklearn: h,
      };
    }
    const dataset = await dataError(() => readAsNode(file, options));
    const names = options.header ? headerCells(text) : null;
    const li = names ? labelIndexOf(names, options.labelColumn!) : -1;
    return {
      dataset,
      featureNames: names && names.filter((_, i) => i !== li),
      labelName: names?.[li] ?? null,
      classNames: Array.isArray(o.classes) ? o.classes : null,
      sklearn: null,
    };
  }
  const dataset = await dataError(() => readAsNode(file, options));
  return { dataset, featureNames: null, labelName: null, classNames: null, sklearn: null };
}

/** The cells of a CSV's first line. */
export function headerCells(text: string): string[] {
  return (/^[^\r\n]*/.exec(text)?.[0] ?? '').split(',').map((c) => c.trim());
}

/** The index of the label column among `names` (a name, or an index negative from the end), or -1. */
export function labelIndexOf(names: readonly string[], column: string | number): number {
  if (typeof column === 'string') return names.indexOf(column);
  const i = column < 0 ? names.length + column : column;
  return i >= 0 && i < names.length ? i : -1;
}

async function dataError<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof DataFormatError) throw new CliError(err.message, 1);
    throw err;
  }
}
