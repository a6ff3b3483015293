// A site's teacher training: T teachers stacked in one ONNX graph per 64 (TeacherEnsemble.train's
// default, libs/distill/src/stacked-teachers.ts) against the former path, one ONNX training
// session per teacher (teachersPerGraph 1), on one site of 5,500 records of F = 200 features
// (synthetic Gaussian classes: the shape of the precomputed features teachers train on), for
// 10, 100 and 300 teachers, linear and hidden [32]. Both paths run in this one invocation,
// configuration by configuration, the order alternating. Also reports how far apart the two
// paths' teachers are (largest probability difference on held-out queries: float rounding only)
// and how long each path's teachers take to label the queries (probabilities: one session per 64
// stacked teachers against one per teacher). Training times include opening the teachers'
// inference sessions, as TeacherEnsemble.train does.
// Usage: npm run bench -- teacher-training [--teachers 10,100,300] [--hidden 0,32] [--epochs 30]
//        [--batch-size 32] [--threads 2] [--queries 1000]
import { loadavg } from 'node:os';
import type { Dataset } from '@fedistill/data';
import { TeacherEnsemble, type TeacherTrainingOptions } from '@fedistill/distill';
import { SeededRandom } from '@fedistill/engine';

const RECORDS = 5500;
const FEATURES = 200;
const CLASSES = 10;

const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) throw new RangeError(`'--${name}' needs a value`);
  return v;
}
function ints(name: string, fallback: string, min: number): number[] {
  const vs = option(name, fallback).split(',').map(Number);
  if (vs.some((v) => !Number.isInteger(v) || v < min))
    throw new RangeError(`'--${name}' must list integers >= ${min}`);
  return vs;
}
const teacherCounts = ints('teachers', '10,100,300', 1);
const hiddens = ints('hidden', '0,32', 0).map((h) => (h === 0 ? [] : [h]));
const [epochs] = ints('epochs', '30', 1);
const [batchSize] = ints('batch-size', '32', 1);
const [threads] = ints('threads', '2', 1);
const [queries] = ints('queries', '1000', 1);
const load1 = (): number => Number(loadavg()[0]!.toFixed(2));

/** `n` records of CLASSES Gaussian classes in FEATURES dimensions, overlapping (centres N(0, 0.3^2)). */
function gaussianClasses(n: number, seed: number, centres: Float32Array[]): Dataset {
  const rng = new SeededRandom(seed);
  const features = new Float32Array(n * FEATURES);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    const c = Math.floor(rng.next() * CLASSES);
    labels[i] = c;
    for (let j = 0; j < FEATURES; j += 1) features[i * FEATURES + j] = centres[c]![j]! + rng.normal();
  }
  return { features, labels, count: n, featureShape: [FEATURES], numClasses: CLASSES };
}

async function timed(site: Dataset, o: TeacherTrainingOptions, x: Float32Array) {
  const started = process.hrtime.bigint();
  const sut = await TeacherEnsemble.train(site, o);
  const trainS = Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const inferStart = process.hrtime.bigint();
    const probabilities = await sut.probabilities(x, queries!);
    const inferS = Number(process.hrtime.bigint() - inferStart) / 1e9;
    return { trainS, inferS, probabilities };
  } finally {
    await sut.dispose();
  }
}

async function main(): Promise<void> {
  const rng = new SeededRandom(1);
  const centres = Array.from({ length: CLASSES }, () =>
    Float32Array.from({ length: FEATURES }, () => 0.3 * rng.normal()),
  );
  const site = gaussianClasses(RECORDS, 2, centres);
  const held = gaussianClasses(queries!, 3, centres);
  const loadBefore = load1();
  console.log(
    `teacher-training: ${RECORDS} records x ${FEATURES} features, ${CLASSES} classes, ${epochs} epochs, ` +
      `batch ${batchSize}, ${threads} threads, ${queries} held-out queries; load ${loadBefore}`,
  );
  const results: Record<string, unknown>[] = [];
  let configuration = 0;
  for (const hidden of hiddens)
    for (const teachers of teacherCounts) {
      const o = { teachers, hidden, epochs: epochs!, batchSize: batchSize!, seed: 7, threads: threads! };
      const order =
        configuration % 2 === 0 ? (['stacked', 'alone'] as const) : (['alone', 'stacked'] as const);
      configuration += 1;
      const runs: Partial<Record<'stacked' | 'alone', Awaited<ReturnType<typeof timed>>>> = {};
      const loads: number[] = [load1()];
      for (const path of order) {
        runs[path] = await timed(
          site,
          { ...o, teachersPerGraph: path === 'alone' ? 1 : undefined },
          held.features,
        );
        loads.push(load1());
      }
      const [s, a] = [runs.stacked!, runs.alone!];
      let worst = 0;
      s.probabilities.forEach((p, t) =>
        p.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - a.probabilities[t]![i]!)))),
      );
      const row = {
        teachers,
        hidden,
        stacked_s: Number(s.trainS.toFixed(2)),
        one_by_one_s: Number(a.trainS.toFixed(2)),
        speedup: Number((a.trainS / s.trainS).toFixed(2)),
        max_probability_difference: Number(worst.toExponential(2)),
        vote_accuracy: voteAccuracy(s.probabilities, held),
        probabilities_s: Number(s.inferS.toFixed(2)),
        one_by_one_probabilities_s: Number(a.inferS.toFixed(2)),
        first: order[0],
        load_average: loads,
      };
      console.log(
        `  T=${teachers} hidden [${hidden.join(',')}]: stacked ${row.stacked_s} s, one by one ${row.one_by_one_s} s ` +
          `(x${row.speedup}); max |dp| ${row.max_probability_difference}; vote accuracy ${row.vote_accuracy}; ` +
          `probabilities of ${queries} queries ${row.probabilities_s} s (one by one ${row.one_by_one_probabilities_s} s); load ${loads.join(' -> ')}`,
      );
      results.push(row);
    }
  console.log(
    JSON.stringify({
      records: RECORDS,
      features: FEATURES,
      classes: CLASSES,
      epochs,
      batch_size: batchSize,
      threads,
      teachers_per_graph: 64,
      results,
      load_average_before: loadBefore,
      load_average_after: load1(),
    }),
  );
}

/** Share of held-out records whose plurality vote (argmax per teacher) is their label. */
function voteAccuracy(probabilities: readonly Float32Array[], held: Dataset): number {
  let hits = 0;
  for (let i = 0; i < held.count; i += 1) {
    const votes = new Array<number>(CLASSES).fill(0);
    for (const p of probabilities) {
      const row = p.subarray(i * CLASSES, (i + 1) * CLASSES);
      const k = row.indexOf(Math.max(...row));
      votes[k] = votes[k]! + 1;
    }
    hits += votes.indexOf(Math.max(...votes)) === held.labels[i] ? 1 : 0;
  }
  return Number((hits / held.count).toFixed(4));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
