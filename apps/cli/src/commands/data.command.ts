import * as path from 'node:path';
import { type Command, Option } from 'commander';
import { CliError, output } from '../cli-error';
import type { DataFileOptions, LabelCount } from '../data/source-file';
import type { PartitionName, RecordFormat, WrittenRecords } from '../data/split-data';

interface ReadFlags {
  format?: 'csv' | 'npy' | 'idx';
  labels?: string;
  labelColumn?: string;
  header: boolean;
  classes?: string;
  json?: boolean;
}

interface WriteFlags extends ReadFlags {
  out: string;
  seed: string;
  to?: RecordFormat;
  force?: boolean;
}

interface SplitFlags extends WriteFlags {
  sites: string;
  partition: PartitionName;
  alpha?: string;
}

interface HoldoutFlags extends WriteFlags {
  reference: string;
  evaluation: string;
}

/** Parses an integer flag in [min, max], or refuses it naming the flag (exit 2). */
function int(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || n < min || n > max)
    throw new CliError(`--${flag} '${value}' must be an integer in [${min}, ${max}]`, 2);
  return n;
}

/** Parses a number > 0, or refuses it naming the flag (exit 2). */
function positive(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new CliError(`--${flag} '${value}' must be a number > 0`, 2);
  return n;
}

/** The flags as node.yaml's `data` settings (a numeric --label-column is an index). */
function readOptions(f: ReadFlags): DataFileOptions {
  const column = f.labelColumn;
  const classes = f.classes?.trim();
  return {
    format: f.format,
    labels: f.labels === undefined ? undefined : path.resolve(f.labels),
    labelColumn: column === undefined ? undefined : /^-?\d+$/.test(column) ? Number(column) : column,
    header: f.header,
    classes:
      classes === undefined
        ? undefined
        : /^\d+$/.test(classes)
          ? int('classes', classes, 2, 1000)
          : classes.split(',').map((c) => c.trim()),
  };
}

function readFlags(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--format <format>', 'csv, npy or idx (default: from the file name)').choices([
        'csv',
        'npy',
        'idx',
      ]),
    )
    .option('--labels <file>', 'NPY/IDX: the labels file (node.yaml data.labels)')
    .option('--label-column <column>', 'CSV: the label column, a name or an index (default -1: the last)')
    .option('--no-header', 'CSV: the first line is a record, not column names (node.yaml header: false)')
    .option(
      '--classes <k|names>',
      'class count, or the comma-separated names the label cells hold, in class order',
    )
    .option('--json', 'print JSON');
}

function writeFlags(cmd: Command): Command {
  return readFlags(cmd)
    .requiredOption('--out <dir>', 'folder to write (refused if not empty, unless --force)')
    .option('--seed <s>', "seed of the shuffle (the simulator's partitionSeed)", '0')
    .addOption(
      new Option(
        '--to <format>',
        'files to write: csv, or npy features + labels (default: csv for a CSV, else npy)',
      ).choices(['csv', 'npy']),
    )
    .option('--force', 'replace a non-empty --out folder');
}

const counts = (labels: readonly LabelCount[]) =>
  labels.map((l) => `${l.value}${l.name ? ` (${l.name})` : ''}: ${l.count}`).join(', ');

/** node.yaml `data` lines for files in `dir` (absolute paths). */
function dataSnippet(dir: string, data: WrittenRecords['data']): string[] {
  const scalar = (v: string | number | boolean) =>
    /^[\w./-]+$/.test(String(v)) ? String(v) : JSON.stringify(v);
  return ['data:', ...Object.entries(absolute(dir, data)).map(([k, v]) => `  ${k}: ${scalar(v)}`)];
}

/** Absolute paths in a node.yaml `data` object. */
function absolute(dir: string, data: WrittenRecords['data']): WrittenRecords['data'] {
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [
      k,
      k === 'train' || k === 'labels' ? path.join(dir, String(v)) : v,
    ]),
  );
}

/** The federation definition's `labels` and `input.shape` for these records. */
function federationHint(classNames: readonly string[] | null, shape: readonly number[]): string {
  const labels = classNames ? `labels: [${classNames.join(', ')}]; ` : '';
  return `federation definition: ${labels}input: { shape: [${shape.join(', ')}] }`;
}

async function inspect(file: string, f: ReadFlags): Promise<void> {
  const { inspectDataFile, renderInspectReport } = await import('../data/inspect-data');
  const report = await inspectDataFile(path.resolve(file), readOptions(f));
  output(f.json === true, report, () => renderInspectReport(report));
  if (!report.nodeReads) throw new CliError(`a node cannot read ${file} with these settings`, 1);
}

async function split(file: string, f: SplitFlags): Promise<void> {
  const { formatOf, readSource } = await import('../data/source-file');
  const { splitRecords } = await import('../data/split-data');
  const { checkOutputFolder, writeOutputFolder } = await import('../data/output-folder');
  const out = path.resolve(f.out);
  const request = {
    sites: int('sites', f.sites, 1, 255),
    partition: f.partition,
    alpha: f.alpha === undefined ? undefined : positive('alpha', f.alpha),
    seed: int('seed', f.seed, 0),
  };
  const opts = readOptions(f);
  checkOutputFolder(out, f.force === true, [file, opts.labels ?? file]);
  const src = await readSource(path.resolve(file), opts);
  const to = f.to ?? (formatOf(file, opts.format) === 'csv' ? 'csv' : 'npy');
  const { files, sites } = splitRecords(src, { ...request, to });
  const summary = {
    source: path.resolve(file),
    ...request,
    alpha: request.partition === 'iid' ? null : (request.alpha ?? 1),
    sites: sites.map((s, i) => ({ site: `site-${i + 1}`, ...s })),
    notes: smallSites(sites),
  };
  writeOutputFolder(out, [
    ...files,
    { name: 'split.json', contents: `${JSON.stringify(summary, null, 2)}\n` },
  ]);
  const shown = { ...summary, out, sites: summary.sites.map((s) => ({ ...s, data: absolute(out, s.data) })) };
  output(f.json === true, shown, () =>
    [
      `wrote ${sites.length} sites to ${out} (${request.partition}${summary.alpha === null ? '' : `, alpha ${summary.alpha}`}, seed ${request.seed})`,
      ...summary.sites.flatMap((s) => [
        `# ${s.site}: ${s.records} records; labels ${counts(s.labels)}`,
        ...dataSnippet(out, s.data),
      ]),
      federationHint(src.classNames, src.dataset.featureShape),
      ...summary.notes.map((n) => `note: ${n}`),
    ].join('\n'),
  );
}

/**
 * Sites a node with node.yaml's defaults could not train on: it holds out testFraction 0.2 of
 * its records (rounded) and trains teachers.count 4 teachers on disjoint parts of the rest.
 */
function smallSites(sites: readonly WrittenRecords[]): string[] {
  return sites.flatMap((s, i) => {
    const train = s.records - Math.round(s.records * 0.2);
    return train >= 4
      ? []
      : [
          `site-${i + 1} keeps ${train} of its ${s.records} records for training after node.yaml's default testFraction 0.2, fewer than the default teachers.count 4: lower both in its node.yaml, or split with fewer sites or a larger --alpha`,
        ];
  });
}

async function holdout(file: string, f: HoldoutFlags): Promise<void> {
  const { formatOf, readSource } = await import('../data/source-file');
  const { holdoutRecords } = await import('../data/split-data');
  const { checkOutputFolder, writeOutputFolder } = await import('../data/output-folder');
  const out = path.resolve(f.out);
  const request = {
    reference: int('reference', f.reference, 0),
    evaluation: int('evaluation', f.evaluation, 0),
    seed: int('seed', f.seed, 0),
  };
  const opts = readOptions(f);
  checkOutputFolder(out, f.force === true, [file, opts.labels ?? file]);
  const src = await readSource(path.resolve(file), opts);
  const to = f.to ?? (formatOf(file, opts.format) === 'csv' ? 'csv' : 'npy');
  const { files, result } = holdoutRecords(src, { ...request, to });
  const summary = { source: path.resolve(file), ...request, ...result };
  writeOutputFolder(out, [
    ...files,
    { name: 'holdout.json', contents: `${JSON.stringify(summary, null, 2)}\n` },
  ]);
  const at = (name: string) => path.join(out, name);
  const rest = result.remainder;
  const splitCmd = `fedistill data split ${at(rest.files[0]!)}${rest.files[1] ? ` --labels ${at(rest.files[1])}` : ''} --sites 3 --out SITES_DIR`;
  output(f.json === true, { ...summary, out, remainder: { ...rest, data: absolute(out, rest.data) } }, () =>
    [
      `wrote ${out} (seed ${request.seed})`,
      ...(result.reference
        ? [
            `reference set: ${at(result.reference.file)}, ${result.reference.rows} rows, shape [${result.reference.shape.join(', ')}]`,
            `  fedistill coordinator reference add ${at(result.reference.file)}   (or referenceSet.file in the federation definition)`,
          ]
        : []),
      ...(result.evaluation
        ? [
            `evaluation set: ${result.evaluation.rows} rows; labels ${counts(result.evaluation.labelCounts)}`,
            `  fedistill coordinator federation evaluation-set --federation ID --inputs ${at(result.evaluation.inputs)} --labels ${at(result.evaluation.labels)}`,
          ]
        : []),
      `remainder: ${rest.records} records for the sites; labels ${counts(rest.labels)}`,
      `  ${splitCmd}`,
      federationHint(src.classNames, src.dataset.featureShape),
    ].join('\n'),
  );
}

/**
 * `fedistill data inspect|split|holdout`: a data file as the node reads it, per-site files, and
 * the reference and evaluation sets. The readers, partitions and writers load on use.
 */
export function registerDataCommand(program: Command): void {
  const data = program
    .command('data')
    .description(
      'prepare data: inspect a file as the node reads it, hold out reference and evaluation sets, split per site',
    );
  readFlags(data.command('inspect').argument('<file>', 'CSV, NPY or IDX records'))
    .description('shows a file as the node reads it: rows, feature shape, columns, label values, problems')
    .action((file: string, f: ReadFlags) => inspect(file, f));
  writeFlags(data.command('split').argument('<file>', 'CSV, NPY or IDX records'))
    .description(
      "splits records into per-site files a node reads as they are, and prints each site's node.yaml data section",
    )
    .requiredOption('--sites <n>', 'number of sites')
    .addOption(
      new Option(
        '--partition <kind>',
        'iid, label-skew (Dirichlet per class) or quantity-skew (Dirichlet sizes)',
      )
        .choices(['iid', 'label-skew', 'quantity-skew'])
        .default('iid'),
    )
    .option('--alpha <a>', 'Dirichlet concentration of the skews (default 1; smaller: more skewed)')
    .action((file: string, f: SplitFlags) => split(file, f));
  writeFlags(data.command('holdout').argument('<file>', 'CSV, NPY or IDX records'))
    .description(
      'holds out a public reference set and a labelled evaluation set (NPY), and keeps the rest for split',
    )
    .requiredOption('--reference <n>', 'records for the reference set (reference.npy: inputs only)')
    .requiredOption(
      '--evaluation <n>',
      'records for the evaluation set (evaluation-inputs.npy, evaluation-labels.npy)',
    )
    .action((file: string, f: HoldoutFlags) => holdout(file, f));
}
