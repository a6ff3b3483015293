import * as ort from 'onnxruntime-node';
import { INFERENCE_INPUT, INFERENCE_LOGITS } from '../export/inference-graph';
import { createSession, type SessionOptions } from './providers';

/**
 * Runs an exported inference model (see exportInferenceModel) on batches of samples.
 * Owns one ORT session: call {@link dispose}.
 */
export class Predictor {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Per-sample input shape. */
    readonly inputShape: readonly number[],
    readonly provider: 'cpu' | 'webgpu' | 'cuda',
  ) {}

  /** Opens a session on `model` (ONNX bytes) whose input takes [N, ...inputShape]. */
  static async create(
    model: Uint8Array,
    inputShape: readonly number[],
    o: SessionOptions = {},
  ): Promise<Predictor> {
    const { session, provider } = await createSession(model, o);
    return new Predictor(session, [...inputShape], provider);
  }

  /** Logits [n, K] (row-major) for `n` samples in `x`. */
  async logits(x: Float32Array, n: number): Promise<Float32Array> {
    const per = this.inputShape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(n) || n < 1 || x.length !== n * per) {
      throw new RangeError(`'x' must hold n * ${per} values (n = ${n}), got ${x.length}`);
    }
    const out = await this.session.run(
      { [INFERENCE_INPUT]: new ort.Tensor('float32', x, [n, ...this.inputShape]) },
      [INFERENCE_LOGITS],
    );
    return out[INFERENCE_LOGITS]!.data as Float32Array;
  }

  /**
   * Fraction of samples whose arg-max logit equals the label, evaluated in chunks of `chunk`.
   * `labels` are class indices in [0, K).
   */
  async accuracy(x: Float32Array, labels: ArrayLike<number>, chunk = 1000): Promise<number> {
    const per = this.inputShape.reduce((a, b) => a * b, 1);
    const n = labels.length;
    let correct = 0;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const logits = await this.logits(x.subarray(start * per, (start + m) * per), m);
      const k = logits.length / m;
      for (let i = 0; i < m; i += 1) {
        let best = 0;
        for (let j = 1; j < k; j += 1) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
        if (best === labels[start + i]) correct += 1;
      }
    }
    return correct / n;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
