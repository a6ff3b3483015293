import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DEFAULT_ORDERS } from '@fedistill/dp';
import type { SimulationConfig } from './config';
import { lineChartSvg, type PlotSeries } from './plot';
import type { SimulationResult } from './run-simulation';

/** The short summary of a run, as `fedistill simulate --json` prints it. Accuracies are fractions. */
export interface SimulationSummary {
  readonly rounds: number;
  readonly finalAccuracy: number | null;
  readonly finalMacroF1: number | null;
  readonly finalEce: number | null;
  readonly finalAuroc: number | null;
  readonly epsilon: number | null;
  readonly delta: number | null;
  /** Mean over sites and completed rounds of the bytes a site sent per round. */
  readonly meanBytesPerSiteRound: number;
  readonly abandonedRounds: number;
  readonly centralizedAccuracy: number | null;
  readonly localOnlyMeanAccuracy: number | null;
  readonly localOnlyBestAccuracy: number | null;
  /** FedAvg's final accuracy and the bytes a site uploads per FedAvg round. */
  readonly fedAvgAccuracy: number | null;
  readonly fedAvgBytesPerSiteRound: number | null;
}

/** Summarizes `result`. */
export function simulationSummary(config: SimulationConfig, result: SimulationResult): SimulationSummary {
  const last = [...result.rounds].reverse().find((r) => r.metrics !== null)?.metrics ?? null;
  const bytes = result.rounds.flatMap((r) => (r.abandoned ? [] : r.bytesPerSite));
  return {
    rounds: result.rounds.length,
    finalAccuracy: last?.accuracy ?? null,
    finalMacroF1: last?.macroF1 ?? null,
    finalEce: last?.ece ?? null,
    finalAuroc: last?.auroc ?? null,
    epsilon: result.epsilon,
    delta: config.privacy.kind === 'none' ? null : config.privacy.delta,
    meanBytesPerSiteRound: bytes.length ? bytes.reduce((a, b) => a + b, 0) / bytes.length : 0,
    abandonedRounds: result.rounds.filter((r) => r.abandoned !== null).length,
    centralizedAccuracy: result.baselines.centralized?.accuracy ?? null,
    localOnlyMeanAccuracy: result.baselines.localOnly?.meanAccuracy ?? null,
    localOnlyBestAccuracy: result.baselines.localOnly?.bestAccuracy ?? null,
    fedAvgAccuracy: result.baselines.fedAvg?.rounds.at(-1)?.accuracy ?? null,
    fedAvgBytesPerSiteRound: result.baselines.fedAvg?.bytesPerSiteRound ?? null,
  };
}

function references(result: SimulationResult): Array<{ name: string; y: number }> {
  const out: Array<{ name: string; y: number }> = [];
  const b = result.baselines;
  if (b.centralized) out.push({ name: 'centralized', y: b.centralized.accuracy });
  if (b.localOnly) out.push({ name: 'local-only mean', y: b.localOnly.meanAccuracy });
  if (b.localOnly) out.push({ name: 'local-only best', y: b.localOnly.bestAccuracy });
  const fedAvg = b.fedAvg?.rounds.at(-1);
  if (fedAvg) out.push({ name: 'FedAvg (final)', y: fedAvg.accuracy });
  return out;
}

/**
 * Writes a run folder (created if absent): `config.json` (resolved), `rounds.jsonl` (one
 * round's metrics a line), `bytes.csv` (round, site, bytes), `privacy.json`, `baselines.json`,
 * `summary.json`, `student.onnx` (the published student; it takes raw inputs, its
 * standardization is inside), and the SVG plots `accuracy-by-round.svg` and
 * `accuracy-by-epsilon.svg`. Returns the paths written.
 */
export async function writeRunFolder(
  dir: string,
  config: SimulationConfig,
  result: SimulationResult,
): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files = new Map<string, string | Uint8Array>();
  const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  files.set('config.json', json(config));
  files.set('rounds.jsonl', result.rounds.map((r) => JSON.stringify(r)).join('\n') + '\n');
  files.set(
    'bytes.csv',
    [
      'round,site,bytes',
      ...result.rounds.flatMap((r) => r.bytesPerSite.map((b, s) => `${r.round},${s},${b}`)),
    ].join('\n') + '\n',
  );
  files.set(
    'privacy.json',
    json({
      privacy: config.privacy,
      epsilon: result.epsilon,
      epsilonByRound: result.rounds.map((r) => r.epsilon),
      orders: DEFAULT_ORDERS,
      rdpCurve: result.rdpCurve,
    }),
  );
  files.set('baselines.json', json(result.baselines));
  files.set('summary.json', json(simulationSummary(config, result)));
  if (result.student) {
    files.set('student.onnx', result.student.model);
  }
  for (const [name, svg] of plots(config, result)) files.set(name, svg);
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(dir, name);
    await fs.writeFile(file, content);
    written.push(file);
  }
  return written;
}

/** The two SVG plots of a run, by file name. */
function plots(config: SimulationConfig, result: SimulationResult): Map<string, string> {
  const files = new Map<string, string>();
  const accuracy = (x: (r: SimulationResult['rounds'][number]) => number | null): PlotSeries => ({
    name: 'student',
    points: result.rounds.map((r) => [x(r) ?? NaN, r.metrics?.accuracy ?? NaN] as const),
  });
  files.set(
    'accuracy-by-round.svg',
    lineChartSvg({
      title: 'student test accuracy by round',
      xLabel: 'round',
      yLabel: 'accuracy',
      series: [accuracy((r) => r.round)],
      references: references(result),
    }),
  );
  files.set(
    'accuracy-by-epsilon.svg',
    lineChartSvg({
      title: `student test accuracy by epsilon spent${config.privacy.kind === 'none' ? ' (no privacy: none spent)' : ''}`,
      xLabel: 'epsilon',
      yLabel: 'accuracy',
      series: [accuracy((r) => r.epsilon)],
      references: references(result),
    }),
  );
  return files;
}
