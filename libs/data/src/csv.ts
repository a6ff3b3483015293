import { readFile } from 'node:fs/promises';
import type { Dataset } from './dataset';
import { DataFormatError } from './errors';
import { maybeGunzip } from './idx';

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** Label column: a name (needs a header or `columns`) or an index (negative counts from the end). */
  readonly label: string | number;
  /** First line (after `skipLines`) holds column names. Default true unless `columns` is given. */
  readonly header?: boolean;
  /** Column names when the file has no header (e.g. from a schema file). */
  readonly columns?: readonly string[];
  /** Lines to skip before the header or data (e.g. a summary line). Default 0. */
  readonly skipLines?: number;
  /**
   * Declared classes: a count (labels are integers in [0, count)) or names (labels are
   * those strings, mapped to their index). Default: integer labels, count = max + 1.
   */
  readonly classes?: number | readonly string[];
  readonly delimiter?: string;
}

/** A schema file (JSON): column names, the label column and the declared classes. */
export interface CsvSchema {
  readonly columns: readonly string[];
  readonly label: string;
  readonly classes: number | readonly string[];
}

/** A parsed CSV: the dataset (feature shape [columns - 1]) and the feature column names. */
export interface CsvTable {
  readonly dataset: Dataset;
  readonly featureNames: readonly string[];
}

function labelIndex(source: string, o: CsvOptions, names: readonly string[] | null, width: number): number {
  if (typeof o.label === 'number') {
    const i = o.label < 0 ? width + o.label : o.label;
    if (!Number.isInteger(i) || i < 0 || i >= width)
      throw new RangeError(`'label' column ${o.label} is outside the ${width} columns`);
    return i;
  }
  const i = names ? names.indexOf(o.label) : -1;
  if (i < 0)
    throw new DataFormatError(
      source,
      `label column '${o.label}' not found in columns ${names?.join(', ') ?? '(no header)'}`,
    );
  return i;
}

function parseLabel(source: string, cell: string, line: number, o: CsvOptions): number {
  if (Array.isArray(o.classes)) {
    const i = (o.classes as readonly string[]).indexOf(cell);
    if (i < 0)
      throw new DataFormatError(
        source,
        `line ${line}: label '${cell}' is not one of the declared classes ${o.classes.join(', ')}`,
      );
    return i;
  }
  const v = Number(cell);
  if (cell === '' || !Number.isInteger(v))
    throw new DataFormatError(source, `line ${line}: label '${cell}' is not an integer class index`);
  if (typeof o.classes === 'number' && (v < 0 || v >= o.classes)) {
    throw new DataFormatError(
      source,
      `line ${line}: label ${v} is outside the declared classes [0, ${o.classes})`,
    );
  }
  if (v < 0) throw new DataFormatError(source, `line ${line}: label ${v} is negative`);
  // Labels are stored as int32: a larger index would wrap to another class.
  if (v > 0x7fffffff)
    throw new DataFormatError(source, `line ${line}: label ${cell} is too large for a class index`);
  return v;
}

/**
 * Parses numeric CSV text (no quoting) into a dataset.
 * @throws DataFormatError for ragged rows, non-numeric cells and labels outside the classes, naming the line.
 */
export function parseCsv(source: string, text: string, o: CsvOptions): CsvTable {
  const delimiter = o.delimiter ?? ',';
  const lines = text.split(/\r?\n/);
  let at = o.skipLines ?? 0;
  const hasHeader = o.header ?? o.columns === undefined;
  const names = hasHeader ? (lines[at++] ?? '').split(delimiter).map((s) => s.trim()) : (o.columns ?? null);
  const rows: string[][] = [];
  const lineNos: number[] = [];
  for (; at < lines.length; at += 1) {
    if (lines[at]!.trim() === '') continue;
    rows.push(lines[at]!.split(delimiter).map((s) => s.trim()));
    lineNos.push(at + 1);
  }
  const width = names?.length ?? rows[0]?.length ?? 0;
  if (rows.length === 0 || width < 2)
    throw new DataFormatError(source, 'no data rows with at least two columns');
  const li = labelIndex(source, o, names, width);
  const per = width - 1;
  const features = new Float32Array(rows.length * per);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, r) => {
    if (row.length !== width)
      throw new DataFormatError(
        source,
        `line ${lineNos[r]}: ${row.length} cells, expected ${width} (ragged row)`,
      );
    let k = 0;
    row.forEach((cell, c) => {
      if (c === li) {
        labels[r] = parseLabel(source, cell, lineNos[r]!, o);
        return;
      }
      const v = Number(cell);
      if (cell === '' || !Number.isFinite(v)) {
        throw new DataFormatError(
          source,
          `line ${lineNos[r]}, column ${names?.[c] ?? c + 1}: '${cell}' is not a number`,
        );
      }
      // Features are float32: 1e39 passes Number.isFinite but is Infinity once stored.
      if (!Number.isFinite(Math.fround(v))) {
        throw new DataFormatError(
          source,
          `line ${lineNos[r]}, column ${names?.[c] ?? c + 1}: '${cell}' is too large for a float32 feature`,
        );
      }
      features[r * per + k++] = v;
    });
  });
  const numClasses = Array.isArray(o.classes)
    ? o.classes.length
    : typeof o.classes === 'number'
      ? o.classes
      : // A loop, not Math.max(...labels): spreading 10^5+ arguments overflows the stack.
        labels.reduce((m, v) => Math.max(m, v), -1) + 1;
  const featureNames = (names ?? Array.from({ length: width }, (_, i) => `c${i}`)).filter((_, i) => i !== li);
  return { dataset: { features, labels, count: rows.length, featureShape: [per], numClasses }, featureNames };
}

/** Reads a CSV file (plain or gzip) and parses it with {@link parseCsv}. */
export async function loadCsv(path: string, o: CsvOptions): Promise<CsvTable> {
  const bytes = maybeGunzip(path, new Uint8Array(await readFile(path)));
  return parseCsv(path, new TextDecoder().decode(bytes), o);
}

/** Reads a JSON schema file for a header-less CSV. */
export async function loadCsvSchema(path: string): Promise<CsvSchema> {
  let s: Partial<CsvSchema>;
  try {
    s = JSON.parse(await readFile(path, 'utf8')) as Partial<CsvSchema>;
  } catch (err) {
    throw new DataFormatError(path, `schema is not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(s.columns) || typeof s.label !== 'string' || !s.columns.includes(s.label)) {
    throw new DataFormatError(path, "schema needs 'columns' (names) and a 'label' that is one of them");
  }
  if (!(typeof s.classes === 'number' || Array.isArray(s.classes)))
    throw new DataFormatError(path, "schema needs 'classes'");
  return { columns: s.columns, label: s.label, classes: s.classes };
}

/** Options for {@link parseCsv} taken from a schema. */
export function csvOptionsFromSchema(s: CsvSchema): CsvOptions {
  return { columns: s.columns, label: s.label, classes: s.classes, header: false };
}
