// Test accuracy on Fashion-MNIST (Xiao, Rasul & Vollgraf, arXiv:1708.07747) of the MLP and
// the small CNN trained by the engine on CPU. Targets: MLP >= 0.88, CNN >= 0.90 within 10 epochs.
// Usage: npm run bench -- engine-accuracy [--dir /usr/share/datasets/fashion-mnist]
//        [--mlp-epochs 10] [--cnn-epochs 10] [--threads 2] [--seed 1]
import { join } from 'node:path';
import { type Dataset, loadIdxDataset, miniBatches, Standardizer } from '@fedistill/data';
import { type ModelDefinition, Predictor, Trainer } from '@fedistill/engine';
import { benchCnn, benchMlp, flag, loadAverage, seconds } from './engine-throughput';

const args = process.argv.slice(2);
const dirIndex = args.indexOf('--dir');
const dir = dirIndex >= 0 ? args[dirIndex + 1]! : '/usr/share/datasets/fashion-mnist';
const threads = flag(args, 'threads', 2);
const seed = flag(args, 'seed', 1);
const BATCH = 128;

async function trainAndTest(
  name: string,
  model: ModelDefinition,
  epochs: number,
  train: Dataset,
  test: Dataset,
) {
  const steps = Math.floor(train.count / BATCH) * epochs;
  const trainer = await Trainer.create({
    model,
    loss: { kind: 'cross-entropy' },
    // Adam (arXiv:1412.6980) with cosine decay to 0 over the whole run (arXiv:1608.03983).
    optimizer: { kind: 'adam', lr: 1e-3, schedule: { kind: 'cosine', totalSteps: steps } },
    batchSize: BATCH,
    stepsPerRun: 4,
    threads,
    seed,
  });
  const start = process.hrtime.bigint();
  let accuracy = 0;
  for (let epoch = 0; epoch < epochs; epoch += 1) {
    const { meanLoss } = await trainer.trainEpoch(
      miniBatches(train, { batchSize: BATCH, seed: seed * 1000 + epoch }),
    );
    const predictor = await Predictor.create(trainer.exportInference(), model.inputShape, { threads });
    accuracy = await predictor.accuracy(test.features, test.labels);
    await predictor.dispose();
    console.log(
      `${name} epoch ${epoch + 1}: train loss ${meanLoss.toFixed(4)}, test accuracy ${accuracy.toFixed(4)}, ${seconds(start).toFixed(1)} s`,
    );
  }
  await trainer.dispose();
  return { accuracy, seconds: seconds(start) };
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const load = loadAverage();
  const rawTrain = await loadIdxDataset(
    join(dir, 'train-images-idx3-ubyte.gz'),
    join(dir, 'train-labels-idx1-ubyte.gz'),
  );
  const rawTest = await loadIdxDataset(
    join(dir, 't10k-images-idx3-ubyte.gz'),
    join(dir, 't10k-labels-idx1-ubyte.gz'),
  );
  // Per-pixel standardization fitted on the training images only.
  const standardizer = Standardizer.fit(rawTrain);
  const [train, test] = [standardizer.apply(rawTrain), standardizer.apply(rawTest)];
  console.log(
    `engine-accuracy: ${train.count} training, ${test.count} test images from ${dir}; load ${load}`,
  );
  const mlpEpochs = flag(args, 'mlp-epochs', 10);
  const cnnEpochs = flag(args, 'cnn-epochs', 10);
  const m = await trainAndTest('MLP', benchMlp(), mlpEpochs, train, test);
  const c = await trainAndTest('CNN', benchCnn(), cnnEpochs, train, test);
  console.log(
    JSON.stringify({
      mlp_test_accuracy: Math.round(m.accuracy * 10000) / 10000,
      cnn_test_accuracy: Math.round(c.accuracy * 10000) / 10000,
      mlp_epochs: mlpEpochs,
      cnn_epochs: cnnEpochs,
      mlp_wall_s: Math.round(m.seconds * 10) / 10,
      cnn_wall_s: Math.round(c.seconds * 10) / 10,
      wall_s: Math.round(seconds(started) * 10) / 10,
      threads,
      seed,
      load_average_before: load,
      load_average_after: loadAverage(),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
