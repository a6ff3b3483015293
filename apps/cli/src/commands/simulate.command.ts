import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { SimulationConfig, SimulationProgress } from '@fedistill/simulate';
import { CliError, output } from '../cli-error';

interface SimulateOptions {
  config: string;
  out: string;
  json?: boolean;
  sites?: string;
  rounds?: string;
  seed?: string;
  queries?: string;
  noiseMultiplier?: string;
}

/** Flags that override a setting of the file; the string is parsed as a number and checked with the rest. */
const OVERRIDES: ReadonlyArray<['sites' | 'rounds' | 'seed' | 'queries' | 'noiseMultiplier', string[]]> = [
  ['sites', ['sites']],
  ['rounds', ['rounds']],
  ['seed', ['seed']],
  ['queries', ['queries', 'perRound']],
  ['noiseMultiplier', ['privacy', 'noiseMultiplier']],
];

function applyOverrides(raw: unknown, opts: SimulateOptions): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const copy = structuredClone(raw) as Record<string, unknown>;
  for (const [flag, [head, tail]] of OVERRIDES) {
    const value = opts[flag];
    if (value === undefined) continue;
    const n = value.trim() === '' ? NaN : Number(value);
    if (tail === undefined) copy[head as string] = n;
    else copy[head as string] = { ...(copy[head as string] as object), [tail]: n };
  }
  return copy;
}

async function loadConfig(opts: SimulateOptions): Promise<SimulationConfig> {
  let text: string;
  try {
    text = await fs.readFile(opts.config, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read --config ${opts.config}: ${(err as Error).message}`, 2);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) as unknown;
  } catch (err) {
    throw new CliError(`${opts.config}: not valid YAML or JSON: ${(err as Error).message}`, 2);
  }
  // Loaded on use: the simulator pulls in ONNX Runtime, which other commands should not pay for.
  const { parseSimulationConfig, SimulationConfigError } = await import('@fedistill/simulate');
  try {
    return parseSimulationConfig(applyOverrides(raw, opts), opts.config);
  } catch (err) {
    if (err instanceof SimulationConfigError) throw new CliError(err.message, 2);
    throw err;
  }
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
    .requiredOption('--config <file>', 'simulation configuration (YAML or JSON; see docs/simulator.md)')
    .option('--out <dir>', 'run folder to write', 'simulation-run')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--sites <n>', 'override: number of sites')
    .option('--rounds <n>', 'override: rounds')
    .option('--seed <n>', 'override: seed')
    .option('--queries <n>', 'override: queries per round')
    .option('--noise-multiplier <z>', 'override: privacy noise multiplier')
    .action(async (opts: SimulateOptions) => {
      const config = await loadConfig(opts);
      const { runSimulation, simulationSummary, writeRunFolder } = await import('@fedistill/simulate');
      const progress = progressReporter();
      let result;
      try {
        result = await runSimulation(config, { onProgress: progress.report });
      } finally {
        progress.stop();
      }
      const dir = path.resolve(opts.out);
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
