import { type Dataset, miniBatches, Standardizer } from '@fedistill/data';
import { mlp, Predictor, Trainer, type TrainingSnapshot } from '@fedistill/engine';
import { classificationMetrics, type ClassificationMetrics, softmaxRows } from '@fedistill/distill';

/** Settings of the FedAvg baseline. */
export interface FedAvgOptions {
  /** Hidden widths of the shared MLP (the student's architecture). */
  readonly hidden: readonly number[];
  /** Communication rounds >= 1. */
  readonly rounds: number;
  /** Local epochs per site per round >= 1. */
  readonly localEpochs: number;
  readonly batchSize: number;
  /** Adam learning rate; default 1e-2 (Adam state is reset at the start of every local run). */
  readonly learningRate?: number;
  readonly seed: number;
  readonly threads?: number;
  readonly onRound?: (round: number, metrics: ClassificationMetrics) => void;
}

/** What FedAvg reached, and what it cost each site. */
export interface FedAvgResult {
  /** Test metrics of the global model after each round. */
  readonly rounds: readonly ClassificationMetrics[];
  /** Trainable parameters of the model. */
  readonly parameterCount: number;
  /**
   * Bytes a site uploads per round: its float32 model (4 bytes a parameter), without secure
   * aggregation (which would add its key and share messages on top).
   */
  readonly bytesPerSiteRound: number;
}

/**
 * Federated averaging (McMahan et al. 2017, arXiv:1602.05629, Algorithm 1) of the student's
 * architecture, all sites taking part in every round, the average weighted by record counts.
 * Inputs are standardized with the statistics of `publicInputs` (the public reference set),
 * so every site uses the same scaling. A baseline for accuracy and communication only: it
 * carries no differential privacy.
 */
export async function federatedAveraging(
  sites: readonly Dataset[],
  test: Dataset,
  publicInputs: Dataset,
  o: FedAvgOptions,
): Promise<FedAvgResult> {
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new RangeError("'rounds' must be an integer >= 1");
  if (!Number.isInteger(o.localEpochs) || o.localEpochs < 1)
    throw new RangeError("'localEpochs' must be an integer >= 1");
  const standardizer = Standardizer.fit(publicInputs);
  const scaled = sites.map((s) => standardizer.apply(s));
  const scaledTest = standardizer.apply(test);
  const model = mlp({ inputShape: test.featureShape, hidden: o.hidden, outputs: test.numClasses });
  const batchSize = Math.max(1, Math.min(o.batchSize, ...scaled.map((s) => s.count)));
  const trainer = await Trainer.create({
    model,
    loss: { kind: 'cross-entropy' },
    optimizer: { kind: 'adam', lr: o.learningRate ?? 1e-2 },
    batchSize,
    seed: o.seed,
    threads: o.threads,
  });
  try {
    const fresh = trainer.snapshot();
    let global = fresh.params;
    const rounds: ClassificationMetrics[] = [];
    for (let r = 0; r < o.rounds; r += 1) {
      global = await averageRound(trainer, fresh, global, scaled, batchSize, o, r);
      trainer.restore({ ...fresh, params: global });
      rounds.push(await evaluate(trainer.exportInference(), scaledTest, o.threads));
      o.onRound?.(r + 1, rounds[r] as ClassificationMetrics);
    }
    const parameterCount = [...fresh.params.values()].reduce((a, p) => a + p.length, 0);
    return { rounds, parameterCount, bytesPerSiteRound: 4 * parameterCount };
  } finally {
    await trainer.dispose();
  }
}

async function averageRound(
  trainer: Trainer,
  fresh: TrainingSnapshot,
  global: Map<string, Float32Array>,
  sites: readonly Dataset[],
  batchSize: number,
  o: FedAvgOptions,
  round: number,
): Promise<Map<string, Float32Array>> {
  const total = sites.reduce((a, s) => a + s.count, 0);
  const sum = new Map([...global].map(([k, v]) => [k, new Float64Array(v.length)]));
  for (const [i, site] of sites.entries()) {
    trainer.restore({ ...fresh, params: global });
    for (let e = 0; e < o.localEpochs; e += 1) {
      const seed = (o.seed * 1_000_003 + round * 1009 + i * 31 + e) >>> 0;
      await trainer.trainEpoch([...miniBatches(site, { batchSize, seed })].map((b) => ({ x: b.x, y: b.y })));
    }
    const weight = site.count / total;
    for (const [k, v] of trainer.snapshot().params) {
      const acc = sum.get(k) as Float64Array;
      for (let j = 0; j < v.length; j += 1) acc[j] = (acc[j] as number) + weight * (v[j] as number);
    }
  }
  return new Map([...sum].map(([k, v]) => [k, Float32Array.from(v)]));
}

/** Test metrics of an inference model (ONNX bytes) on `test`. */
export async function evaluate(
  model: Uint8Array,
  test: Dataset,
  threads?: number,
): Promise<ClassificationMetrics> {
  const p = await Predictor.create(model, test.featureShape, { threads });
  try {
    const logits = await p.logits(test.features, test.count);
    return classificationMetrics(softmaxRows(logits, test.numClasses), test.labels, test.numClasses);
  } finally {
    await p.dispose();
  }
}
