import { type Dataset, miniBatches } from '@fedistill/data';
import { exportInferenceModel, initModel, mlp, type ModelValues, StackedMlpTrainer } from '@fedistill/engine';
import { adam } from './learning-rate';
import type { TeacherTrainingOptions } from './teachers';

/** Teachers per ONNX graph when {@link TeacherTrainingOptions.teachersPerGraph} is not set. */
export const DEFAULT_TEACHERS_PER_GRAPH = 64;

/** One trained teacher: its inference model and (with keepTrainingState, or stacked) its weights. */
export interface TrainedTeacher {
  readonly model: Uint8Array;
  readonly values: ModelValues;
}

/**
 * Trains teacher t on `parts[t]` (already standardized with partition t's own standardizer) for
 * every t, up to `perGraph` teachers in one ONNX graph and session ({@link StackedMlpTrainer}):
 * input [T, b, F], weights [T, F, H] and [T, H, C], loss the sum of each teacher's mean
 * cross-entropy on its own rows.
 *
 * Privacy (one record moves one teacher, the basis of every sensitivity the release charges):
 * teacher t's initial weights come from its own seed (seed * 1000 + t), its rows at each step from
 * its own partition shuffled with its own seed (seed * 1000 + t * 100 + epoch), its number of steps
 * and learning-rate schedule from its partition's size, and its gradient is that of its own loss
 * term (the other teachers' terms do not depend on its weights; no norm clipping couples them),
 * applied by Adam element by element. So teacher t's exported model is a function of partition t
 * (and the public options) alone, exactly as when it trains alone: the same inputs to the same
 * arithmetic as today's one-by-one path ({@link TeacherEnsemble.train} with `teachersPerGraph`
 * 1), up to float rounding (a batched MatMul plus Add instead of Gemm, summed in another order).
 * Teachers share a graph only with teachers of the same batch size and steps per epoch (the IID
 * split makes partitions differ in size by at most one, so there are at most two such groups);
 * whichever graph a teacher lands in depends on the partition sizes, which do not change when one
 * record is replaced.
 */
export async function trainStackedTeachers(
  parts: readonly Dataset[],
  o: TeacherTrainingOptions,
  perGraph: number,
): Promise<TrainedTeacher[]> {
  const groups = new Map<string, number[]>();
  parts.forEach((part, t) => {
    const b = batchOf(part, o);
    const key = `${b}/${Math.floor(part.count / b)}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  });
  const out: TrainedTeacher[] = new Array<TrainedTeacher>(parts.length);
  for (const members of groups.values())
    for (let i = 0; i < members.length; i += perGraph) {
      const chunk = members.slice(i, i + perGraph);
      const trained = await trainChunk(
        chunk.map((t) => parts[t]!),
        chunk,
        o,
      );
      trained.forEach((teacher, j) => (out[chunk[j]!] = teacher));
    }
  return out;
}

function batchOf(part: Dataset, o: TeacherTrainingOptions): number {
  return Math.max(1, Math.min(o.batchSize, part.count));
}

/** Teachers `ids` (same batch size and steps per epoch) on `parts`, in one session. */
async function trainChunk(
  parts: readonly Dataset[],
  ids: readonly number[],
  o: TeacherTrainingOptions,
): Promise<TrainedTeacher[]> {
  const first = parts[0]!;
  const net = { inputShape: first.featureShape, hidden: o.hidden, outputs: first.numClasses };
  const b = batchOf(first, o);
  const steps = Math.floor(first.count / b);
  const per = first.featureShape.reduce((x, y) => x * y, 1);
  const trainer = await StackedMlpTrainer.create({
    mlp: net,
    batchSize: b,
    optimizer: adam(o.learningRate ?? 1e-2, o.schedule, o.epochs, steps),
    initial: ids.map((t) => initModel(mlp(net), o.seed * 1000 + t)),
    threads: o.threads,
    provider: o.provider,
  });
  try {
    for (let epoch = 0; epoch < o.epochs; epoch += 1) {
      const batches = parts.map((part, j) => [
        ...miniBatches(part, { batchSize: b, seed: o.seed * 1000 + ids[j]! * 100 + epoch }),
      ]);
      const sums = new Float64Array(ids.length);
      for (let s = 0; s < steps; s += 1) {
        const x = new Float32Array(ids.length * b * per);
        const y = new BigInt64Array(ids.length * b);
        batches.forEach((teacher, j) => {
          x.set(teacher[s]!.x, j * b * per);
          y.set(teacher[s]!.y, j * b);
        });
        (await trainer.step(x, y)).forEach((loss, j) => (sums[j] = sums[j]! + loss));
      }
      ids.forEach((t, j) => o.onProgress?.({ teacher: t, epoch, loss: sums[j]! / steps }));
    }
    return ids.map((_, j) => {
      const values = trainer.values(j);
      const model = exportInferenceModel(mlp(net), values);
      return { model, values };
    });
  } finally {
    await trainer.dispose();
  }
}
