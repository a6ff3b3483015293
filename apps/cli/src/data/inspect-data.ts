import * as fs from 'node:fs';
import { type Dataset, DataFormatError, featureSize } from '@fedistill/data';
import { CliError } from '../cli-error';
import {
  csvText,
  type DataFileOptions,
  headerCells,
  labelCounts,
  labelIndexOf,
  type LabelCount,
  nodeReadOptions,
  readAsNode,
  readSource,
  type SklearnHeader,
  sklearnHeader,
} from './source-file';

/** What `fedistill data inspect` reports about a file, as the node would read it. */
export interface InspectReport {
  readonly file: string;
  /** The node.yaml `data` settings the file was read with. */
  readonly settings: Record<string, unknown>;
  readonly nodeReads: boolean;
  /** The node's error when it would refuse the file, else null. */
  readonly error: string | null;
  readonly rows: number | null;
  readonly featureShape: readonly number[] | null;
  /** CSV: every column's name (with a header), else null. */
  readonly columns: readonly string[] | null;
  readonly labels: readonly LabelCount[];
  readonly problems: readonly string[];
  readonly sklearn: SklearnHeader | null;
}

const NUMBER = (s: string) => s !== '' && Number.isFinite(Number(s));

/** Label cells of a CSV the node refused, counted as text (at most 50 distinct values). */
function rawLabelCounts(text: string, header: boolean, column: string | number): LabelCount[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const names = header ? headerCells(text) : null;
  const width = names?.length ?? (lines[0] ?? '').split(',').length;
  const li = labelIndexOf(names ?? new Array<string>(width).fill(''), column);
  if (li < 0 || (typeof column === 'string' && !names)) return [];
  const counts = new Map<string, number>();
  for (const line of lines.slice(header ? 1 : 0)) {
    const cell = line.split(',')[li]?.trim() ?? '';
    if (!counts.has(cell) && counts.size >= 50) continue;
    counts.set(cell, (counts.get(cell) ?? 0) + 1);
  }
  return [...counts.entries()].map(([value, count]) => ({ value, count }));
}

function classProblems(d: Dataset, declared: boolean): string[] {
  const seen = new Set(d.labels);
  const missing = Array.from({ length: d.numClasses }, (_, i) => i).filter((i) => !seen.has(i));
  const out: string[] = [];
  if (seen.size < 2)
    out.push(`only one label value occurs (${[...seen].join('')}): a federation needs two or more classes`);
  if (missing.length && !declared)
    out.push(
      `labels run to ${d.numClasses - 1} but class ${missing.join(', ')} never occurs: labels must be class indices 0..k-1 (give --classes K if a class is really absent)`,
    );
  let bad = 0;
  for (const v of d.features) if (!Number.isFinite(v)) bad += 1;
  if (bad)
    out.push(`${bad} feature values are not finite (NaN or infinity): the teachers cannot train on them`);
  return out;
}

/** Problems visible in a CSV's text, with what to do about each. */
function csvProblems(text: string, header: boolean, error: string | null, labels: LabelCount[]): string[] {
  const out: string[] = [];
  const cells = headerCells(text);
  const numeric = cells.every(NUMBER);
  if (header && numeric)
    out.push(
      'the first line holds numbers, not column names: the node reads it as a header and loses that record; give --no-header (node.yaml header: false)',
    );
  const dup = cells.filter((c, i) => cells.indexOf(c) !== i);
  if (header && !numeric && dup.length) out.push(`column names repeat: ${[...new Set(dup)].join(', ')}`);
  if (error?.includes('is not an integer class index') && labels.some((l) => !NUMBER(l.value))) {
    const names = labels.map((l) => l.value).join(',');
    out.push(
      `the label cells are names (${names}): give --classes ${names} in class order (node.yaml labelValues: name; the federation's labels give that order)`,
    );
  }
  return out;
}

function settingsOf(o: ReturnType<typeof nodeReadOptions>): Record<string, unknown> {
  if (o.format !== 'csv') return { format: o.format, labels: o.labels };
  return {
    format: 'csv',
    labelColumn: o.labelColumn,
    header: o.header,
    ...(Array.isArray(o.classes) ? { labelValues: 'name' } : {}),
  };
}

/** Reads `file` as the node would and reports its shape, labels and problems. */
export async function inspectDataFile(file: string, o: DataFileOptions): Promise<InspectReport> {
  const options = nodeReadOptions(file, o);
  if (!fs.existsSync(file)) throw new CliError(`data: ${file} does not exist`, 1);
  let data: Dataset | null = null;
  let error: string | null = null;
  try {
    data = await readAsNode(file, options);
  } catch (err) {
    if (!(err instanceof DataFormatError)) throw err;
    error = err.message;
  }
  const names = Array.isArray(o.classes) ? (o.classes as readonly string[]) : null;
  let labels = data ? labelCounts(data, names) : [];
  const problems = error ? [`the node refuses it: ${error}`] : [];
  let sklearn: SklearnHeader | null = null;
  let columns: readonly string[] | null = null;
  if (options.format === 'csv') {
    const text = csvText(file);
    sklearn = sklearnHeader(text);
    if (options.header && !sklearn) columns = headerCells(text);
    if (sklearn && !data) {
      data = (await readSource(file, o)).dataset;
      labels = labelCounts(data, sklearn.classNames);
      problems.push(
        `the first line is scikit-learn's header (${sklearn.rows} rows, ${sklearn.features} features, classes ${sklearn.classNames.join(', ')}), which a node cannot read: \`fedistill data holdout\` and \`fedistill data split\` read it and write files a node reads`,
      );
    }
    if (!data) labels = rawLabelCounts(text, options.header!, options.labelColumn!);
    problems.push(...csvProblems(text, options.header!, error, labels));
  }
  if (data) problems.push(...classProblems(data, o.classes !== undefined || sklearn !== null));
  return {
    file,
    settings: settingsOf(options),
    nodeReads: error === null,
    error,
    rows: data?.count ?? null,
    featureShape: data ? [...data.featureShape] : null,
    columns,
    labels,
    problems,
    sklearn,
  };
}

function list(items: readonly string[], max = 12): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')}, ... (${items.length - max} more)`;
}

/** The report as text. */
export function renderInspectReport(r: InspectReport): string {
  const settings = Object.entries(r.settings)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
  const lines = [
    `${r.file} (${settings})`,
    r.nodeReads ? 'the node reads it' : `the node refuses it: ${r.error}`,
  ];
  if (!r.nodeReads && r.sklearn)
    lines.push("read past scikit-learn's header, as `data holdout` and `data split` do:");
  if (r.rows !== null) lines.push(`rows: ${r.rows}`);
  if (r.featureShape)
    lines.push(
      `features per row: ${featureSize({ featureShape: r.featureShape })} (shape [${r.featureShape.join(', ')}])`,
    );
  if (r.columns) lines.push(`columns (${r.columns.length}): ${list(r.columns)}`);
  if (r.labels.length)
    lines.push(
      `label values: ${list(
        r.labels.map((l) => `${l.value}${l.name ? ` (${l.name})` : ''}: ${l.count}`),
        20,
      )}`,
    );
  const shown = r.problems.filter((p) => r.nodeReads || !p.startsWith('the node refuses it'));
  lines.push(shown.length ? 'problems:' : 'problems: none', ...shown.map((p) => `  - ${p}`));
  return lines.join('\n');
}
