import type { Standardizer } from '@fedistill/data';
import {
  activate,
  add,
  div,
  emitModel,
  type ExecutionProvider,
  Graph,
  INFERENCE_INPUT,
  INFERENCE_LOGITS,
  matmul,
  mlp,
  type MlpOptions,
  type ModelValues,
  Predictor,
  reshape,
  sub,
  transpose,
} from '@fedistill/engine';

/** Default floats of the largest [teachers, rows, features] intermediate of one run (32 MiB). */
const RUN_FLOATS = 2 ** 23;

/**
 * Several of a site's MLP teachers answering in ONE ONNX session: input x [N, F] (raw), output
 * [N, T * C] with teacher j's logits in columns j * C .. j * C + C - 1. Inside the graph each
 * teacher standardizes x with its OWN partition's mean and standard deviation ([T, 1, F], the
 * same statistics {@link TeacherEnsemble} applies to its one-by-one predictors), then runs its
 * own weights (batched MatMul, [T, F, H]). Teacher j's logits depend on its own statistics and
 * weights only: each batch index of MatMul is its own product, so one record still moves one
 * teacher's answers. Replaces T sessions (and T runs per call) by one.
 */
export class StackedTeacherPredictor {
  private constructor(
    private readonly predictor: Predictor,
    readonly teachers: number,
    private readonly features: number,
    private readonly classes: number,
    /** Inputs per session run. */
    private readonly rows: number,
  ) {}

  /** The session for teachers of `net` with `values` (mlp's names) and `standardizers`, in order. */
  static async create(
    net: Omit<MlpOptions, 'dropout'>,
    values: readonly ModelValues[],
    standardizers: readonly Standardizer[],
    o: {
      threads?: number;
      provider?: ExecutionProvider;
      /** Floats the largest [teachers, rows, features] intermediate of one run may hold; default 2^23. */
      runFloats?: number;
    },
  ): Promise<StackedTeacherPredictor> {
    if (values.length < 1 || values.length !== standardizers.length)
      throw new RangeError("'values' and 'standardizers' must hold one entry per teacher (>= 1)");
    const features = net.inputShape.reduce((a, b) => a * b, 1);
    const model = stackedModel(net, values, standardizers, features);
    const rows = Math.max(1, Math.floor((o.runFloats ?? RUN_FLOATS) / (values.length * features)));
    const predictor = await Predictor.create(model, net.inputShape, o);
    return new StackedTeacherPredictor(predictor, values.length, features, net.outputs, rows);
  }

  /** Each teacher's logits [n, classes] (row-major) for the `n` raw inputs in `x`. */
  async logits(x: Float32Array, n: number): Promise<Float32Array[]> {
    const [t, c] = [this.teachers, this.classes];
    const out = Array.from({ length: t }, () => new Float32Array(n * c));
    const rows = this.rows;
    for (let start = 0; start < n; start += rows) {
      const m = Math.min(rows, n - start);
      const part = await this.predictor.logits(
        x.subarray(start * this.features, (start + m) * this.features),
        m,
      );
      for (let i = 0; i < m; i += 1)
        for (let j = 0; j < t; j += 1)
          out[j]!.set(part.subarray((i * t + j) * c, (i * t + j + 1) * c), (start + i) * c);
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.predictor.dispose();
  }
}

/** Teachers `values` (with their `standardizers`) answering `perGraph` per session, in order. */
export async function openStackedTeachers(
  net: Omit<MlpOptions, 'dropout'>,
  values: readonly ModelValues[],
  standardizers: readonly Standardizer[],
  perGraph: number,
  o: { threads?: number; provider?: ExecutionProvider },
): Promise<StackedTeacherPredictor[]> {
  const opened: StackedTeacherPredictor[] = [];
  try {
    for (let t = 0; t < values.length; t += perGraph)
      opened.push(
        await StackedTeacherPredictor.create(
          net,
          values.slice(t, t + perGraph),
          standardizers.slice(t, t + perGraph),
          o,
        ),
      );
    return opened;
  } catch (err) {
    await Promise.all(opened.map((p) => p.dispose()));
    throw err;
  }
}

function stackedModel(
  net: Omit<MlpOptions, 'dropout'>,
  values: readonly ModelValues[],
  standardizers: readonly Standardizer[],
  features: number,
): Uint8Array {
  const t = values.length;
  const g = new Graph();
  const paramValues = new Map<string, Float32Array>();
  const param = (name: string, shape: number[], per: (j: number) => ArrayLike<number> | undefined) => {
    const size = shape.slice(1).reduce((a, b) => a * b, 1);
    const stacked = new Float32Array(size * t);
    for (let j = 0; j < t; j += 1) {
      const v = per(j);
      if (!v || v.length !== size) throw new RangeError(`teacher ${j} lacks ${size} values for '${name}'`);
      stacked.set(v, j * size);
    }
    paramValues.set(name, stacked);
    return g.param(name, shape);
  };
  const x = g.input(INFERENCE_INPUT, 'float32', [null, features]);
  const mean = param('standardizer.mean', [t, 1, features], (j) => standardizers[j]?.mean);
  const std = param('standardizer.std', [t, 1, features], (j) => standardizers[j]?.std);
  let h = div(sub(x, mean), std);
  const specs = mlp(net).parameters;
  const layers = specs.length / 2;
  for (let i = 0; i < layers; i += 1) {
    const [w, b] = [specs[2 * i]!, specs[2 * i + 1]!];
    const weight = param(w.name, [t, ...w.shape], (j) => values[j]?.params.get(w.name));
    const bias = param(b.name, [t, 1, ...b.shape], (j) => values[j]?.params.get(b.name));
    h = add(matmul(h, weight), bias);
    if (i < layers - 1) h = activate(h, net.activation ?? 'relu');
  }
  // [T, N, C] -> [N, T, C] -> [N, T * C]: one row per input, as Predictor reads outputs.
  g.output(INFERENCE_LOGITS, reshape(transpose(h, [1, 0, 2]), [-1, t * net.outputs]));
  return emitModel(g, { mode: 'inference', paramValues }, 'fedistill-stacked-teachers');
}
