import { type Dataset, miniBatches } from '@fedistill/data';
import { mlp, Trainer } from '@fedistill/engine';
import { adam } from './learning-rate';
import type { TrainedTeacher } from './stacked-teachers';
import type { TeacherTrainingOptions } from './teachers';

/**
 * Trains teacher t alone, in its own ONNX training session, on `data` (its partition, already
 * standardized with the partition's own standardizer): the path of `teachersPerGraph` 1.
 */
export async function trainOne(data: Dataset, o: TeacherTrainingOptions, t: number): Promise<TrainedTeacher> {
  const batchSize = Math.max(1, Math.min(o.batchSize, data.count));
  const trainer = await Trainer.create({
    model: mlp({ inputShape: data.featureShape, hidden: o.hidden, outputs: data.numClasses }),
    loss: { kind: 'cross-entropy' },
    optimizer: adam(o.learningRate ?? 1e-2, o.schedule, o.epochs, Math.floor(data.count / batchSize)),
    batchSize,
    seed: o.seed * 1000 + t,
    threads: o.threads,
    provider: o.provider,
  });
  try {
    for (let epoch = 0; epoch < o.epochs; epoch += 1) {
      const batches = [...miniBatches(data, { batchSize, seed: o.seed * 1000 + t * 100 + epoch })].map(
        (b) => ({ x: b.x, y: b.y }),
      );
      const { meanLoss } = await trainer.trainEpoch(batches);
      o.onProgress?.({ teacher: t, epoch, loss: meanLoss });
    }
    const model = trainer.exportInference();
    if (!o.keepTrainingState) return { model, values: { params: new Map(), buffers: new Map() } };
    const snapshot = trainer.snapshot();
    return { model, values: { params: snapshot.params, buffers: snapshot.buffers } };
  } finally {
    await trainer.dispose();
  }
}
