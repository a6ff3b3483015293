// Benchmark: the long fuzzing run of every surface that takes outside bytes (issue 15: at least
// 100 000 cases, zero crashes, zero hangs, every refusal naming its cause). The surfaces and
// their oracles are test/fuzz/surfaces/; CI runs a few hundred cases of each (test/fuzz/*.spec.ts).
//   npm run bench -- fuzz [--cases 100000] [--only npy,csv] [--seed 1]
// Cases are split evenly over the surfaces. Each surface runs in a worker thread watched from
// here: a worker that reports no progress for --hang-s seconds (default 60) is stopped and the
// case it was on is reported as a hang. Surfaces that load native code that could abort the
// process (ONNX Runtime) run in a child process, so an abort is counted and named, not fatal.
// Last line: one JSON object (cases per surface, findings, hangs, max case time, wall time).
import { fork } from 'node:child_process';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runSurface, type SurfaceReport } from '../test/fuzz/support/surface';
import { surfaceNames, loadSurface, ISOLATED_SURFACES } from '../test/fuzz/surfaces';

interface Job {
  readonly name: string;
  readonly cases: number;
  readonly firstSeed: number;
  readonly current: SharedArrayBuffer;
}

type Message =
  | { kind: 'progress'; done: number }
  | { kind: 'case'; seed: number }
  | { kind: 'done'; report: SurfaceReport };

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? '');
}

/** Worker side (thread or child process): run one surface, reporting progress and the case in hand. */
async function work(job: Job, post: (m: Message) => void, track: (seed: number) => void): Promise<void> {
  // Damaged YAML makes the yaml package emit a process warning per case (unresolved tags,
  // ambiguous anchors): expected here, and thousands of them would bury the figures.
  process.removeAllListeners('warning');
  const surface = loadSurface(job.name);
  await surface.prepare?.();
  const report = await runSurface(
    surface,
    job.cases,
    job.firstSeed,
    (done) => post({ kind: 'progress', done }),
    track,
  );
  post({ kind: 'done', report });
}

interface Outcome {
  readonly report: SurfaceReport;
  readonly hang?: string;
  readonly died?: string;
}

/** Runs one surface away from this thread; stops it when it makes no progress for `hangMs`. */
function supervise(job: Job, hangMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const isolated = ISOLATED_SURFACES.includes(job.name);
    const current = new Int32Array(job.current);
    let done = 0;
    let lastCase = job.firstSeed;
    let finished = false;
    const empty = (): SurfaceReport => ({
      surface: job.name,
      cases: done,
      accepted: 0,
      refused: 0,
      findings: 1,
      maxCaseMs: 0,
      wallMs: 0,
      examples: [],
    });
    // ONNX Runtime logs every model it refuses to stderr from native code: keep only the tail,
    // which names the cause if the child dies.
    let stderrTail = '';
    const worker = isolated
      ? fork(__filename, ['--child', JSON.stringify({ ...job, current: undefined })], {
          stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
        })
      : new Worker(__filename, { workerData: job });
    if (isolated)
      (worker as ReturnType<typeof fork>).stderr?.on('data', (d: Buffer) => {
        stderrTail = (stderrTail + d.toString('utf8')).slice(-1500);
      });
    let timer = setTimeout(onHang, hangMs);
    function finish(o: Outcome) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve(o);
    }
    function onHang() {
      const seed = isolated ? lastCase : Atomics.load(current, 0);
      const hang = `${job.name} case ${seed}: no progress for ${hangMs / 1000} s (a hang)`;
      if (isolated) (worker as ReturnType<typeof fork>).kill('SIGKILL');
      else void (worker as Worker).terminate();
      finish({ report: empty(), hang });
    }
    const onMessage = (m: Message) => {
      clearTimeout(timer);
      timer = setTimeout(onHang, hangMs);
      if (m.kind === 'progress') done = m.done;
      else if (m.kind === 'case') lastCase = m.seed;
      else {
        finish({ report: m.report });
        if (isolated) (worker as ReturnType<typeof fork>).kill();
        else void (worker as Worker).terminate();
      }
    };
    worker.on('message', onMessage);
    worker.on('error', (err: Error) => finish({ report: empty(), died: `${job.name}: ${err.message}` }));
    worker.on('exit', (code: number | null, signal?: string) => {
      if (!finished)
        finish({
          report: empty(),
          died: `${job.name} case ${isolated ? lastCase : Atomics.load(current, 0)}: the process exited (code ${code}, signal ${signal ?? 'none'})${stderrTail ? `; its stderr ended: ${stderrTail.slice(-600)}` : ''}`,
        });
    });
  });
}

async function main(): Promise<void> {
  const total = Number(flag('cases', '100000'));
  const firstSeed = Number(flag('seed', '1'));
  const hangMs = Number(flag('hang-s', '60')) * 1000;
  if (!Number.isInteger(total) || total < 1) throw new RangeError('--cases must be a positive integer');
  const only = flag('only', '');
  const names = only ? only.split(',') : surfaceNames();
  const unknown = names.filter((n) => !surfaceNames().includes(n));
  if (unknown.length)
    throw new RangeError(`unknown surface(s) ${unknown.join(', ')}; known: ${surfaceNames().join(', ')}`);
  const per = Math.ceil(total / names.length);
  const started = performance.now();
  const results: Outcome[] = [];
  for (const name of names) {
    const job: Job = { name, cases: per, firstSeed, current: new SharedArrayBuffer(4) };
    const o = await supervise(job, hangMs);
    results.push(o);
    const r = o.report;
    process.stdout.write(
      `${name.padEnd(34)} ${String(r.cases).padStart(7)} cases  accepted ${String(r.accepted).padStart(6)}  refused ${String(r.refused).padStart(6)}  findings ${r.findings}  max case ${r.maxCaseMs.toFixed(1)} ms  wall ${(r.wallMs / 1000).toFixed(1)} s\n`,
    );
    for (const e of [...r.examples, ...(o.hang ? [o.hang] : []), ...(o.died ? [o.died] : [])])
      process.stdout.write(`  ${e}\n`);
  }
  const findings = results.reduce((n, o) => n + (o.hang || o.died ? 0 : o.report.findings), 0);
  const summary = {
    bench: 'fuzz',
    cases: results.reduce((n, o) => n + o.report.cases, 0),
    surfaces: Object.fromEntries(
      results.map((o) => [
        o.report.surface,
        {
          cases: o.report.cases,
          accepted: o.report.accepted,
          refused: o.report.refused,
          findings: o.report.findings,
          max_case_ms: Number(o.report.maxCaseMs.toFixed(2)),
        },
      ]),
    ),
    crashes: findings + results.filter((o) => o.died).length,
    hangs: results.filter((o) => o.hang).length,
    max_case_ms: Number(Math.max(...results.map((o) => o.report.maxCaseMs)).toFixed(2)),
    wall_s: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (summary.crashes || summary.hangs) process.exitCode = 1;
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  const job = JSON.parse(process.argv[childAt + 1] ?? '{}') as Omit<Job, 'current'>;
  const post = (m: Message) => process.send?.(m);
  void work({ ...job, current: new SharedArrayBuffer(4) }, post, (seed) => post({ kind: 'case', seed })).then(
    () => process.disconnect?.(),
  );
} else if (!isMainThread) {
  const job = workerData as Job;
  const current = new Int32Array(job.current);
  void work(
    job,
    (m) => parentPort?.postMessage(m),
    (seed) => Atomics.store(current, 0, seed),
  );
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
