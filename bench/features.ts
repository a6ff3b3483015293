// Features that cost no privacy (issue 13): the scattering transform (libs/features scattering.ts,
// J = 2, L = 8, order 2: 81 x 7 x 7 = 3,969 values per 28 x 28 image, as in Tramèr & Boneh,
// arXiv:2011.11660) on Fashion-MNIST (Xiao et al., arXiv:1708.07747). Measures
//  - extraction throughput of the exported ONNX graph in ONNX Runtime, 1 and 2 threads;
//  - test accuracy of a linear classifier (engine `mlp`, hidden []) trained centrally on (a) raw
//    pixels, (b) scattering features, both standardized per feature on the training subset only
//    (`--fit subset`, the default) or on a public reference set of 5,000 other training images
//    whose labels are not used (`--fit reference`: what a federation can fix before any private
//    record is seen; the training subsets then come from the other 55,000), for training subsets
//    of `--sizes` records (55 and 550: what one teacher sees at a site of a 10-site federation
//    with 100 or 10 teachers per site), repeated on `--repeats` disjoint seeded subsets where the
//    subset is at most a tenth of the pool the subsets are drawn from.
// Usage: npm run bench -- features [--dir /usr/share/datasets/fashion-mnist] [--threads 2]
//        [--sizes 55,550,5500,60000] [--repeats 5] [--throughput-images 2000] [--seed 1]
//        [--fit subset|reference] [--throughput-only]
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  type Dataset,
  loadIdxDataset,
  miniBatches,
  permutation,
  selectSamples,
  Standardizer,
} from '@fedistill/data';
import { exportInferenceModel, mlp, Predictor, Trainer } from '@fedistill/engine';
import { DEFAULT_SCATTERING, scattering } from '@fedistill/features';
import { intFlag, stringFlag } from './harness/flags';
import { loadAverage, seconds } from './engine-throughput';

const args = process.argv.slice(2);
const dir = stringFlag(args, 'dir', undefined, '/usr/share/datasets/fashion-mnist');
const threads = intFlag(args, 'threads', 2);
const seed = intFlag(args, 'seed', 1);
const repeats = intFlag(args, 'repeats', 5);
const throughputImages = intFlag(args, 'throughput-images', 2_000);
const sizes = stringFlag(args, 'sizes', undefined, '55,550,5500,60000').split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 2))
  throw new RangeError(`'--sizes' must be integers >= 2, got '${sizes.join(',')}'`);
const fit = stringFlag(args, 'fit', ['subset', 'reference'], 'subset');
/** Size of the public reference set of `--fit reference` (as in the fmnist-federation benchmark). */
const REFERENCE = 5_000;
const CHUNK = 500;
const NO_VALUES = { params: new Map<string, Float32Array>(), buffers: new Map<string, Float32Array>() };

/** Scattering features of every record, `CHUNK` images per ORT run; returns them and the images/s. */
async function extract(bytes: Uint8Array, d: Dataset, count: number, nThreads: number) {
  const predictor = await Predictor.create(bytes, d.featureShape, { threads: nThreads });
  const per = d.featureShape.reduce((a, b) => a * b, 1);
  await predictor.outputs(d.features.subarray(0, per), 1); // warm-up: first-run allocations
  const parts: Float32Array[] = [];
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let at = 0; at < count; at += CHUNK) {
    const m = Math.min(CHUNK, count - at);
    parts.push(await predictor.outputs(d.features.subarray(at * per, (at + m) * per), m));
  }
  const rate = count / seconds(start);
  const used = process.cpuUsage(cpu);
  // Images per second of this process's CPU time (user + system): less sensitive to other load.
  const perCpu = count / ((used.user + used.system) / 1e6);
  await predictor.dispose();
  const k = parts[0]!.length / Math.min(CHUNK, count);
  const features = new Float32Array(count * k);
  parts.reduce((at, p) => (features.set(p, at), at + p.length), 0);
  const out: Dataset = { ...d, features, count, featureShape: [k], labels: d.labels.subarray(0, count) };
  return { out, rate, perCpu };
}

/**
 * Test accuracy of a linear softmax classifier trained with Adam on `train`, standardized with
 * statistics fitted on `reference` (or on `train` itself when it is undefined).
 */
async function linearAccuracy(rawTrain: Dataset, rawTest: Dataset, reference?: Dataset): Promise<number> {
  const standardizer = Standardizer.fit(reference ?? rawTrain);
  const [train, test] = [standardizer.apply(rawTrain), standardizer.apply(rawTest)];
  const batchSize = Math.min(64, train.count);
  const perEpoch = Math.floor(train.count / batchSize);
  // At least 500 steps (small sets) and at least 10 epochs (large ones).
  const epochs = Math.max(10, Math.ceil(500 / perEpoch));
  const model = mlp({ inputShape: train.featureShape, hidden: [], outputs: train.numClasses });
  const trainer = await Trainer.create({
    model,
    loss: { kind: 'cross-entropy' },
    optimizer: { kind: 'adam', lr: 1e-3, schedule: { kind: 'cosine', totalSteps: epochs * perEpoch } },
    batchSize,
    threads,
    seed,
  });
  for (let epoch = 0; epoch < epochs; epoch += 1)
    await trainer.trainEpoch(miniBatches(train, { batchSize, seed: seed * 1000 + epoch }));
  const predictor = await Predictor.create(trainer.exportInference(), train.featureShape, { threads });
  const accuracy = await predictor.accuracy(test.features, test.labels);
  await predictor.dispose();
  await trainer.dispose();
  return accuracy;
}

const round4 = (v: number): number => Math.round(v * 10_000) / 10_000;
const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: readonly number[]): number =>
  v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1));

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const loadBefore = loadAverage();
  const rawTrain = await loadIdxDataset(
    join(dir, 'train-images-idx3-ubyte.gz'),
    join(dir, 'train-labels-idx1-ubyte.gz'),
  );
  const rawTest = await loadIdxDataset(
    join(dir, 't10k-images-idx3-ubyte.gz'),
    join(dir, 't10k-labels-idx1-ubyte.gz'),
  );
  const available = rawTrain.count - (fit === 'reference' ? REFERENCE : 0);
  if (sizes.some((n) => n > available))
    throw new RangeError(
      `'--sizes' must be at most ${available} (training records not in the reference set)`,
    );
  const bytes = exportInferenceModel(scattering(DEFAULT_SCATTERING, rawTrain.featureShape), NO_VALUES);
  const digest = createHash('sha256').update(bytes).digest('hex');
  console.log(
    `features: ${rawTrain.count} training, ${rawTest.count} test images from ${dir}; scattering J=2 L=8 order 2, ` +
      `ONNX ${bytes.length} bytes, sha256 ${digest}; standardizer fitted on the ${fit}; load ${loadBefore}`,
  );
  const throughput: Record<string, { images_per_s: number; images_per_cpu_s: number; load_average: number }> =
    {};
  for (const t of [1, 2]) {
    const load = loadAverage();
    const { rate, perCpu } = await extract(bytes, rawTest, Math.min(throughputImages, rawTest.count), t);
    throughput[`threads_${t}`] = {
      images_per_s: Math.round(rate),
      images_per_cpu_s: Math.round(perCpu),
      load_average: load,
    };
    console.log(
      `extraction, ${t} thread(s): ${rate.toFixed(0)} images/s, ${perCpu.toFixed(0)} per CPU-second (load ${load})`,
    );
  }
  if (args.includes('--throughput-only')) {
    console.log(JSON.stringify({ onnx_bytes: bytes.length, onnx_sha256: digest, extraction: throughput }));
    return;
  }
  const largest = Math.max(...sizes);
  const pool = permutation(rawTrain.count, seed);
  const poolTrain = selectSamples(rawTrain, pool.subarray(0, largest));
  const extractStart = process.hrtime.bigint();
  const scatTrain = (await extract(bytes, poolTrain, poolTrain.count, threads)).out;
  const scatTest = (await extract(bytes, rawTest, rawTest.count, threads)).out;
  // The reference set: the last REFERENCE records of the seeded permutation, disjoint from the pool.
  const rawReference =
    fit === 'reference' ? selectSamples(rawTrain, pool.subarray(rawTrain.count - REFERENCE)) : undefined;
  const scatReference = rawReference && (await extract(bytes, rawReference, REFERENCE, threads)).out;
  const extractSeconds = seconds(extractStart);
  console.log(
    `extracted ${poolTrain.count} + ${rawTest.count} images in ${extractSeconds.toFixed(1)} s (${threads} threads)`,
  );
  const results = [];
  for (const n of sizes) {
    // Disjoint subsets of the seeded pool: repeat r uses records [r n, (r + 1) n).
    const reps = n * 10 <= largest ? Math.min(repeats, Math.floor(largest / n)) : 1;
    const acc = { raw: [] as number[], scattering: [] as number[] };
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < reps; r += 1) {
      const idx = Uint32Array.from({ length: n }, (_, i) => r * n + i);
      acc.raw.push(await linearAccuracy(selectSamples(poolTrain, idx), rawTest, rawReference));
      acc.scattering.push(await linearAccuracy(selectSamples(scatTrain, idx), scatTest, scatReference));
    }
    const row = {
      train_records: n,
      repeats: reps,
      raw_accuracy: round4(mean(acc.raw)),
      raw_sd: round4(sd(acc.raw)),
      scattering_accuracy: round4(mean(acc.scattering)),
      scattering_sd: round4(sd(acc.scattering)),
      wall_s: Math.round(seconds(t0) * 10) / 10,
      load_average: loadAverage(),
    };
    results.push(row);
    console.log(
      `n=${n} (${reps} subsets): raw ${row.raw_accuracy} ± ${row.raw_sd}, scattering ` +
        `${row.scattering_accuracy} ± ${row.scattering_sd}, ${row.wall_s} s, load ${row.load_average}`,
    );
  }
  console.log(
    JSON.stringify({
      scattering: { scales: 2, angles: 8, order: 2, output_size: scatTrain.featureShape[0] },
      onnx_bytes: bytes.length,
      onnx_sha256: digest,
      extraction: throughput,
      extraction_all_s: Math.round(extractSeconds * 10) / 10,
      standardizer_fitted_on: fit,
      linear: results,
      threads,
      seed,
      wall_s: Math.round(seconds(started) * 10) / 10,
      load_average_before: loadBefore,
      load_average_after: loadAverage(),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
