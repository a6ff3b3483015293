// Interleaved A/B runs: each sample of each side is a fresh process, started only after the
// previous one exited, so no thread pool of one side idles (or spins) beside the other. The
// order is A, B, A, B, ... so slow drifts of machine load hit both sides alike.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { compare, type Comparison, median } from './stats';

/** One side of a comparison: a command that prints a {@link WorkerReport} as its last stdout line. */
export interface SideCommand {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the harness's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/** What a side's process prints as its last line (JSON); other keys are kept. */
export interface WorkerReport {
  /** Throughput of the timed part, > 0. */
  readonly samples_per_s: number;
  /** Peak resident set size of the process, KiB (getrusage ru_maxrss). */
  readonly peak_rss_kb: number;
  readonly [key: string]: unknown;
}

/** Runs one process of a side and returns its report (injected by tests). */
export type SideRunner = (side: SideCommand, timeoutMs: number) => WorkerReport;

/** Settings of {@link runInterleaved}. */
export interface InterleaveOptions {
  /** A/B pairs, >= 5 for a published figure (>= 1 accepted for smoke runs). */
  readonly pairs: number;
  /** Bound on (max - min) / median of either side above which no ratio is given, > 0. */
  readonly maxSpread: number;
  /** Per-process time limit, ms; default 15 minutes. */
  readonly timeoutMs?: number;
  readonly run?: SideRunner;
  /** Called after each process with the side's name and its report (progress output). */
  readonly onSample?: (side: string, pair: number, report: WorkerReport) => void;
}

/** One side's samples with its peak memory and the load around each sample. */
export interface SideResult {
  readonly name: string;
  readonly reports: readonly WorkerReport[];
  /** Largest peak RSS over its processes, MiB. */
  readonly peakRssMb: number;
}

export interface InterleavedResult {
  readonly comparison: Comparison;
  readonly a: SideResult;
  readonly b: SideResult;
  readonly pairs: number;
  /** 1-minute load average before the first and after the last process. */
  readonly loadBefore: number;
  readonly loadAfter: number;
}

export const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

/** Parses a side's stdout: the last non-empty line must be a JSON {@link WorkerReport}. */
export function parseReport(side: string, stdout: string): WorkerReport {
  const last = stdout.trim().split('\n').pop() ?? '';
  let value: unknown;
  try {
    value = JSON.parse(last);
  } catch {
    throw new Error(
      `side '${side}' did not print a JSON report as its last line (got '${last.slice(0, 200)}')`,
    );
  }
  const r = value as Partial<WorkerReport> | null;
  if (!r || typeof r !== 'object')
    throw new Error(`side '${side}' printed ${last.slice(0, 200)}, not an object`);
  if (!(typeof r.samples_per_s === 'number' && r.samples_per_s > 0 && Number.isFinite(r.samples_per_s)))
    throw new Error(`side '${side}' reported no positive 'samples_per_s' (${last.slice(0, 200)})`);
  if (!(typeof r.peak_rss_kb === 'number' && r.peak_rss_kb > 0))
    throw new Error(`side '${side}' reported no positive 'peak_rss_kb' (${last.slice(0, 200)})`);
  return r as WorkerReport;
}

/** Runs a side's command to completion with spawnSync and parses its report. */
export const spawnSide: SideRunner = (side, timeoutMs) => {
  const res = spawnSync(side.command, [...side.args], {
    encoding: 'utf8',
    env: { ...process.env, ...side.env },
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (res.error) throw new Error(`side '${side.name}' could not run: ${res.error.message}`);
  if (res.status !== 0) {
    const tail = res.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`side '${side.name}' exited with ${res.status ?? res.signal}: ${tail}`);
  }
  return parseReport(side.name, res.stdout);
};

/** Runs A, B, A, B, ... for `pairs` pairs and compares their throughputs. */
export function runInterleaved(a: SideCommand, b: SideCommand, o: InterleaveOptions): InterleavedResult {
  if (!Number.isInteger(o.pairs) || o.pairs < 1) throw new RangeError("'pairs' must be an integer >= 1");
  if (!(o.maxSpread > 0)) throw new RangeError("'maxSpread' must be > 0");
  if (a.name === b.name) throw new RangeError(`the two sides need different names (both '${a.name}')`);
  const run = o.run ?? spawnSide;
  const timeout = o.timeoutMs ?? 15 * 60_000;
  const reports: [WorkerReport[], WorkerReport[]] = [[], []];
  const loadBefore = load1();
  for (let pair = 0; pair < o.pairs; pair += 1) {
    [a, b].forEach((side, i) => {
      const before = load1();
      const r = run(side, timeout);
      const withLoad = { ...r, load_before: before, load_after: load1() };
      reports[i]!.push(withLoad);
      o.onSample?.(side.name, pair, withLoad);
    });
  }
  const loadAfter = load1();
  const side = (s: SideCommand, rs: WorkerReport[]): SideResult => ({
    name: s.name,
    reports: rs,
    peakRssMb: Math.max(...rs.map((r) => r.peak_rss_kb)) / 1024,
  });
  return {
    comparison: compare(
      reports[0].map((r) => r.samples_per_s),
      reports[1].map((r) => r.samples_per_s),
      o.maxSpread,
      [a.name, b.name],
    ),
    a: side(a, reports[0]),
    b: side(b, reports[1]),
    pairs: o.pairs,
    loadBefore,
    loadAfter,
  };
}

const r2 = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * The same comparison over another figure both sides report (`key`, > 0 in every report), or null
 * when either side lacks it.
 */
export function keyComparison(r: InterleavedResult, key: string): Comparison | null {
  const values = (s: SideResult) => s.reports.map((x) => x[key]);
  const [a, b] = [values(r.a), values(r.b)];
  const ok = (v: unknown[]): v is number[] => v.every((x) => typeof x === 'number' && x > 0);
  if (!ok(a) || !ok(b)) return null;
  return compare(a, b, r.comparison.maxSpread, [r.a.name, r.b.name]);
}

/**
 * The comparison over samples per CPU-second (`cpu_samples_per_s`): work per unit of CPU, which
 * other processes' load disturbs far less than wall time.
 */
export const cpuComparison = (r: InterleavedResult): Comparison | null =>
  keyComparison(r, 'cpu_samples_per_s');

/**
 * The comparison over the first untimed pass (`first_pass_samples_per_s`): each batch's memory
 * read by the training loop for the first time in the process (docs/benchmarks.md says why that
 * differs on this VM).
 */
export const firstPassComparison = (r: InterleavedResult): Comparison | null =>
  keyComparison(r, 'first_pass_samples_per_s');

/** Median minor page faults per timed step over a side's processes, when its worker reports them. */
function pageFaults(s: SideResult): { page_faults_per_step?: number } {
  const v = s.reports.map((x) => x['page_faults_per_step']).filter((x): x is number => typeof x === 'number');
  return v.length === 0 ? {} : { page_faults_per_step: Math.round(median(v) * 10) / 10 };
}

/**
 * The JSON form of a result: per side median, best, spread, samples, peak RSS and (when reported)
 * page faults per step; both ratios.
 */
export function resultJson(r: InterleavedResult): Record<string, unknown> {
  const c = r.comparison;
  const sideJson = (s: SideResult, sum: typeof c.a) => ({
    median: Math.round(sum.median),
    best: Math.round(sum.best),
    worst: Math.round(sum.worst),
    spread: r3(sum.spread),
    samples: sum.samples.map(Math.round),
    peak_rss_mb: Math.round(s.peakRssMb),
    load: s.reports.map((x) => [x['load_before'], x['load_after']]),
    ...pageFaults(s),
  });
  const cpu = cpuComparison(r);
  const first = firstPassComparison(r);
  return {
    [r.a.name]: {
      ...sideJson(r.a, c.a),
      ...(cpu ? { cpu_median: Math.round(cpu.a.median), cpu_spread: r3(cpu.a.spread) } : {}),
    },
    [r.b.name]: {
      ...sideJson(r.b, c.b),
      ...(cpu ? { cpu_median: Math.round(cpu.b.median), cpu_spread: r3(cpu.b.spread) } : {}),
    },
    ratio_of_medians: r2(c.ratioOfMedians),
    ratio_of_bests: r2(c.ratioOfBests),
    max_spread: c.maxSpread,
    refused: c.refused,
    ...(cpu ? { cpu_ratio_of_medians: r2(cpu.ratioOfMedians), cpu_refused: cpu.refused } : {}),
    ...(first
      ? {
          first_pass_medians: [Math.round(first.a.median), Math.round(first.b.median)],
          first_pass_ratio_of_medians: r2(first.ratioOfMedians),
          first_pass_refused: first.refused,
        }
      : {}),
    pairs: r.pairs,
    load_before: r.loadBefore,
    load_after: r.loadAfter,
  };
}
