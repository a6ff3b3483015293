import * as ort from 'onnxruntime-node';
import { INFERENCE_INPUT, INFERENCE_LOGITS } from '../export/inference-graph';
import { createSession, type SessionOptions } from './providers';

/**
 * One input or output of a model as ONNX Runtime reports it: element type ('float32', ...) and
 * shape, where a string is a symbolic (dynamic) dimension and [] means the model does not say.
 */
export interface ModelValueInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/** A model's inputs and outputs. */
export interface ModelSignature {
  readonly inputs: readonly ModelValueInfo[];
  readonly outputs: readonly ModelValueInfo[];
}

/** A model's inputs or outputs do not fit what was asked of it; the message lists them. */
export class ModelSignatureError extends RangeError {
  override readonly name = 'ModelSignatureError';
}

/** What a model's output holds: unnormalized scores, or rows of class probabilities. */
export type OutputKind = 'logits' | 'probabilities';

/** Which input and output of a model a {@link Predictor} uses. */
export interface PredictorOptions extends SessionOptions {
  /** The input to feed; default `input` (fedistill's own models) or else the model's only input. */
  readonly input?: string;
  /** The output to read; default `logits` (fedistill's own models) or else the model's only output. */
  readonly output?: string;
  /** What that output holds; default 'logits'. See {@link Predictor.logits}. */
  readonly outputKind?: OutputKind;
}

// Floor for probabilities before their logarithm: a row that rounds to all zeros becomes
// uniform instead of NaN. 1e-38 is about float32's smallest normal number.
const TINY_PROBABILITY = 1e-38;

function infoOf(m: ort.InferenceSession.ValueMetadata): ModelValueInfo {
  return m.isTensor
    ? { name: m.name, type: m.type, shape: [...m.shape] }
    : { name: m.name, type: 'non-tensor', shape: [] };
}

/** "x float32 [batch, 13]" for each value, comma-separated. */
export function describeValues(values: readonly ModelValueInfo[]): string {
  if (values.length === 0) return 'none';
  return values
    .map((v) => `'${v.name}' ${v.type} [${v.shape.join(', ') || 'shape not declared'}]`)
    .join(', ');
}

/** "inputs 'x' float32 [batch, 13]; outputs 'scores' float32 [batch, 3]". */
export function describeSignature(s: ModelSignature): string {
  return `inputs ${describeValues(s.inputs)}; outputs ${describeValues(s.outputs)}`;
}

function pick(
  names: readonly string[],
  given: string | undefined,
  usual: string,
  what: string,
  s: ModelSignature,
) {
  if (given !== undefined) {
    if (!names.includes(given))
      throw new ModelSignatureError(`the model has no ${what} named '${given}' (${describeSignature(s)})`);
    return given;
  }
  if (names.includes(usual)) return usual;
  if (names.length === 1) return names[0] as string;
  throw new ModelSignatureError(
    `the model has ${names.length} ${what}s and none is named '${usual}'; name the ${what} to use (${describeSignature(s)})`,
  );
}

/**
 * Runs an inference model (fedistill's own, see exportInferenceModel, or any with a float32 input
 * [N, ...inputShape] and a float32 output [N, K]) on batches of samples. A model whose input
 * declares a fixed batch size B is run B samples at a time (the last chunk zero-padded).
 * Owns one ORT session: call {@link dispose}.
 */
export class Predictor {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Per-sample input shape. */
    readonly inputShape: readonly number[],
    readonly provider: 'cpu' | 'webgpu' | 'cuda',
    /** The input fed and the output read. */
    readonly input: string,
    readonly output: string,
    readonly outputKind: OutputKind,
    /** The batch size the model's input fixes, or undefined when its batch dimension is dynamic. */
    readonly fixedBatch: number | undefined,
  ) {}

  /**
   * Opens a session on `model` (ONNX bytes) whose input takes [N, ...inputShape].
   * @throws ModelSignatureError when a named input or output does not exist, or none was named and the
   *   model's are ambiguous; the message lists the model's inputs and outputs.
   */
  static async create(
    model: Uint8Array,
    inputShape: readonly number[],
    o: PredictorOptions = {},
  ): Promise<Predictor> {
    const { session, provider } = await createSession(model, o);
    try {
      const s = signatureOf(session);
      const input = pick(session.inputNames, o.input, INFERENCE_INPUT, 'input', s);
      const output = pick(session.outputNames, o.output, INFERENCE_LOGITS, 'output', s);
      const batch = s.inputs.find((v) => v.name === input)?.shape[0];
      const fixed = typeof batch === 'number' && batch > 0 ? batch : undefined;
      return new Predictor(
        session,
        [...inputShape],
        provider,
        input,
        output,
        o.outputKind ?? 'logits',
        fixed,
      );
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** The model's inputs and outputs, with their element types and declared shapes. */
  get signature(): ModelSignature {
    return signatureOf(this.session);
  }

  /** The model's output [n, K] (row-major) for `n` samples in `x`, as the model gives it. */
  async outputs(x: Float32Array, n: number): Promise<Float32Array> {
    const per = this.inputShape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(n) || n < 1 || x.length !== n * per) {
      throw new RangeError(`'x' must hold n * ${per} values (n = ${n}), got ${x.length}`);
    }
    const step = this.fixedBatch ?? n;
    const parts: Float32Array[] = [];
    for (let start = 0; start < n; start += step) {
      const m = Math.min(step, n - start);
      let chunk = x.subarray(start * per, (start + m) * per);
      if (m < step) {
        chunk = new Float32Array(step * per);
        chunk.set(x.subarray(start * per, (start + m) * per));
      }
      const rows = await this.run(chunk, step);
      parts.push(rows.subarray(0, (rows.length / step) * m));
    }
    if (parts.length === 1) return parts[0] as Float32Array;
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
    return out;
  }

  /**
   * Logits [n, K] (row-major) for `n` samples in `x`. For a model whose output is
   * 'probabilities', their natural logarithm: log p is a logit vector of the same distribution
   * (softmax(log p) = p), so softmax(log p / T) = p^(1/T) / sum p^(1/T) tempers it exactly as
   * softmax(z / T) tempers the logits z of the model before its softmax (log p = z - logsumexp z).
   */
  async logits(x: Float32Array, n: number): Promise<Float32Array> {
    const out = await this.outputs(x, n);
    if (this.outputKind === 'logits') return out;
    return out.map((p) => Math.log(Math.max(p, TINY_PROBABILITY)));
  }

  private async run(x: Float32Array, n: number): Promise<Float32Array> {
    const out = await this.session.run(
      { [this.input]: new ort.Tensor('float32', x, [n, ...this.inputShape]) },
      [this.output],
    );
    const t = out[this.output] as ort.Tensor;
    if (t.type !== 'float32' && t.type !== 'float64')
      throw new RangeError(`output '${this.output}' is ${t.type}; expected float32 (or float64)`);
    if (t.dims.length !== 2 || t.dims[0] !== n)
      throw new RangeError(
        `output '${this.output}' has shape [${t.dims.join(', ')}] for ${n} input(s); expected [${n}, classes]`,
      );
    return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
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

function signatureOf(session: ort.InferenceSession): ModelSignature {
  return { inputs: session.inputMetadata.map(infoOf), outputs: session.outputMetadata.map(infoOf) };
}
