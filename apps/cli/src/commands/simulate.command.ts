import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { SimulationConfig, SimulationProgress } from '@fedistill/simulate';
import { CliError, output } from '../cli-error';

interface SimulateOptions {
  config?: string;
  out: string;
  force?: boolean;
  json?: boolean;
  sites?: string;
  rounds?: string;
  seed?: string;
  queries?: string;
  noiseMultiplier?: string;
  referenceSize?: string;
  teachers?: string;
  data?: string;
  labels?: string;
  labelColumn?: string;
  format?: string;
  test?: string;
  testLabels?: string;
  classes?: string;
}

type Override = 'sites' | 'rounds' | 'seed' | 'queries' | 'noiseMultiplier' | 'referenceSize' | 'teachers';

/** Flags that override a setting of the file (by its path); the string is parsed as a number and checked with the rest. */
const OVERRIDES: ReadonlyArray<[Override, string[]]> = [
  ['sites', ['sites']],
  ['rounds', ['federation', 'rounds', 'maxRounds']],
  ['seed', ['seed']],
  ['queries', ['federation', 'rounds', 'queriesPerRound']],
  ['noiseMultiplier', ['federation', 'privacy', 'noiseMultiplier']],
  ['referenceSize', ['referenceSize']],
  ['teachers', ['teachers', 'count']],
];

/** `value` set at `keys` of a copy of `o` (objects along the way copied, created when missing). */
function setPath(
  o: Record<string, unknown>,
  keys: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = keys as [string, ...string[]];
  if (rest.length === 0) return { ...o, [head]: value };
  const inner = o[head];
  const next = typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? inner : {};
  return { ...o, [head]: setPath(next as Record<string, unknown>, rest, value) };
}

/** Flags that describe `--data` (node.yaml's `data` names), by setting. */
const DATA_FLAGS = ['labels', 'labelColumn', 'format', 'test', 'testLabels', 'classes'] as const;

function applyOverrides(raw: unknown, opts: SimulateOptions): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  let copy = structuredClone(raw) as Record<string, unknown>;
  for (const [flag, keys] of OVERRIDES) {
    const value = opts[flag];
    if (value === undefined) continue;
    copy = setPath(copy, keys, value.trim() === '' ? NaN : Number(value));
  }
  // --noise-multiplier states the noise itself: a definition's targetEpsilon would say it twice.
  if (opts.noiseMultiplier !== undefined) {
    const privacy = (copy.federation as { privacy?: Record<string, unknown> }).privacy ?? {};
    const { targetEpsilon, ...rest } = privacy;
    // The target stays the cap it stood for.
    const capped =
      targetEpsilon !== undefined && rest.epsilonCap === undefined ? { epsilonCap: targetEpsilon } : {};
    copy = setPath(copy, ['federation', 'privacy'], { ...rest, ...capped });
  }
  const dataset = dataFlags(opts);
  if (dataset) copy.dataset = dataset;
  return copy;
}

/**
 * `--data FILE [--label-column C] [--labels F] ...` as a `{ kind: files }` dataset (paths
 * absolute: flags are relative to the working directory, not to the configuration file).
 */
function dataFlags(opts: SimulateOptions): Record<string, unknown> | undefined {
  if (opts.data === undefined) {
    const stray = DATA_FLAGS.find((k) => opts[k] !== undefined);
    if (stray)
      throw new CliError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --data`, 2);
    return undefined;
  }
  const abs = (f: string | undefined) => (f === undefined ? undefined : path.resolve(f));
  const column = opts.labelColumn;
  const classes = opts.classes;
  const names = classes !== undefined && !/^\d+$/.test(classes.trim());
  return {
    kind: 'files',
    train: path.resolve(opts.data),
    ...(opts.labels === undefined ? {} : { labels: abs(opts.labels) }),
    ...(opts.format === undefined ? {} : { format: opts.format }),
    // A column given as an integer (negative from the end) is an index, otherwise a name.
    ...(column === undefined ? {} : { labelColumn: /^-?\d+$/.test(column) ? Number(column) : column }),
    ...(opts.test === undefined ? {} : { test: abs(opts.test) }),
    ...(opts.testLabels === undefined ? {} : { testLabels: abs(opts.testLabels) }),
    ...(classes === undefined
      ? {}
      : names
        ? { classes: classes.split(',').map((c) => c.trim()), labelValues: 'name' }
        : { classes: Number(classes) }),
  };
}

/** Without --config: a small federation on --data (3 sites, 4 teachers each, one round). */
function quickStart(opts: SimulateOptions): Record<string, unknown> {
  if (opts.data === undefined) throw new CliError('give --config FILE, or --data FILE for a quick run', 2);
  if (opts.referenceSize === undefined)
    throw new CliError(
      'without --config, give --reference-size N (records held out as public reference inputs)',
      2,
    );
  const reference = Number(opts.referenceSize);
  const rounds = opts.rounds === undefined ? 1 : Number(opts.rounds);
  const perRound = Math.max(1, Math.floor(reference / rounds));
  return {
    sites: 3,
    teachers: { count: 4 },
    federation: {
      student: { architecture: 'mlp', hidden: [32] },
      privacy: { mechanism: 'none' },
      rounds: { queriesPerRound: Number.isFinite(perRound) ? perRound : 1 },
    },
  };
}

async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read --config ${file}: ${(err as Error).message}`, 2);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw new CliError(`${file}: not valid YAML or JSON: ${(err as Error).message}`, 2);
  }
}

async function loadConfig(opts: SimulateOptions): Promise<SimulationConfig> {
  const raw = opts.config === undefined ? quickStart(opts) : await readConfigFile(opts.config);
  // Loaded on use: the simulator pulls in ONNX Runtime, which other commands should not pay for.
  const { parseSimulationConfig, SimulationConfigError } = await import('@fedistill/simulate');
  const source = opts.config ?? 'flags';
  const baseDir = opts.config === undefined ? '.' : path.dirname(opts.config);
  try {
    return parseSimulationConfig(applyOverrides(raw, opts), source, { baseDir });
  } catch (err) {
    if (err instanceof SimulationConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

/**
 * Refuses a run folder that already holds something, unless `--force`: a run must not silently
 * overwrite another one's files. Nothing is created or changed here.
 */
async function checkRunFolder(dir: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new CliError(`--out ${dir} is a file, not a folder`, 2);
    throw new CliError(`--out ${dir} cannot be read: ${(err as Error).message}`, 2);
  }
  if (entries.length > 0 && !force)
    throw new CliError(
      `--out ${dir} is not empty (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}); give an empty or new folder, or --force to write into it (files of the same name are replaced, others are kept)`,
      2,
    );
}

/** Progress on stderr: a bar on a terminal, one line per step otherwise. */
function progressReporter(): { report: (p: SimulationProgress) => void; stop: () => void } {
  if (!process.stderr.isTTY) {
    return { report: (p) => process.stderr.write(`simulate: ${p.message}\n`), stop: () => undefined };
  }
  const bar = new SingleBar({ stream: process.stderr, format: 'simulate [{bar}] {percentage}% {message}' });
  bar.start(100, 0, { message: 'loading data' });
  return {
    report: (p) => bar.update(Math.round(p.fraction * 100), { message: p.message }),
    stop: () => bar.stop(),
  };
}

/**
 * `fedistill simulate`: N virtual sites in one process with the real SecAgg+ state machines and
 * distributed noise, writing a run folder. A bad configuration exits with code 2 and writes nothing.
 */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'simulate a federation on one machine: teachers, secure aggregation, noise, student, baselines',
    )
    .option('--config <file>', 'simulation configuration (YAML or JSON; see docs/simulator.md)')
    .option('--out <dir>', 'run folder to write (new or empty)', 'simulation-run')
    .option('--force', 'write into --out even when it is not empty (files of the same name are replaced)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--sites <n>', 'override: number of sites')
    .option('--rounds <n>', 'override: federation.rounds.maxRounds')
    .option('--seed <n>', 'override: seed')
    .option('--queries <n>', 'override: federation.rounds.queriesPerRound')
    .option(
      '--noise-multiplier <z>',
      'override: federation.privacy.noiseMultiplier (replaces a targetEpsilon)',
    )
    .option('--reference-size <n>', 'override: records held out as public reference inputs')
    .option('--teachers <k>', 'override: teachers.count (teachers per site)')
    .option('--data <file>', "your own records instead of the file's dataset (CSV, NPY or IDX)")
    .option('--label-column <column>', '--data CSV: label column, a name or an index (default -1: last)')
    .option('--labels <file>', '--data NPY/IDX: the labels file')
    .option('--format <format>', '--data: csv, npy or idx (default: from the file name)')
    .option('--test <file>', '--data: a separate test file (default: hold out testFraction)')
    .option('--test-labels <file>', '--test NPY/IDX: its labels file')
    .option('--classes <k|names>', '--data: class count, or comma-separated label names the label cells use')
    .action(async (opts: SimulateOptions) => {
      const dir = path.resolve(opts.out);
      await checkRunFolder(dir, opts.force === true);
      const config = await loadConfig(opts);
      const { runSimulation, simulationSummary, writeRunFolder, SimulationDataError } =
        await import('@fedistill/simulate');
      const progress = progressReporter();
      let result;
      try {
        result = await runSimulation(config, { onProgress: progress.report });
      } catch (err) {
        if (err instanceof SimulationDataError)
          throw new CliError(`${opts.config ?? 'flags'}: ${err.message}`, 2);
        throw err;
      } finally {
        progress.stop();
      }
      await writeRunFolder(dir, config, result);
      const summary = { runFolder: dir, ...simulationSummary(config, result) };
      output(opts.json === true, summary, () =>
        [
          `run folder: ${dir}`,
          `student accuracy: ${summary.finalAccuracy ?? 'n/a'} after ${summary.rounds} rounds`,
          `epsilon: ${summary.epsilon === null ? 'none (no privacy)' : `${summary.epsilon} at delta ${summary.delta}`}`,
          `bytes per site per round: ${Math.round(summary.meanBytesPerSiteRound)}`,
          ...(summary.centralizedAccuracy === null ? [] : [`centralized: ${summary.centralizedAccuracy}`]),
          ...(summary.localOnlyMeanAccuracy === null
            ? []
            : [`local-only: mean ${summary.localOnlyMeanAccuracy}, best ${summary.localOnlyBestAccuracy}`]),
          ...(summary.fedAvgAccuracy === null
            ? []
            : [
                `FedAvg: ${summary.fedAvgAccuracy}, ${summary.fedAvgBytesPerSiteRound} bytes per site per round`,
              ]),
        ].join('\n'),
      );
    });
}
