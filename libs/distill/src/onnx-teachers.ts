import {
  describeSignature,
  describeValues,
  type ExecutionProvider,
  ModelSignatureError,
  type OutputKind,
  Predictor,
} from '@fedistill/engine';

/**
 * A site-provided teacher: ONNX bytes, and which input and output to use when the model has
 * several. Any model with one float32 input [N, ...inputShape] and one float32 output
 * [N, classes] fits, whatever their names; fedistill's own exported models (input `input`,
 * outputs `logits` and `probabilities`) fit unnamed too.
 */
export interface OnnxTeacherModel {
  readonly model: Uint8Array;
  /** Where the model came from (a file path), named in errors. */
  readonly file?: string;
  /** The input to feed; needed only when the model has several. */
  readonly input?: string;
  /** The output to read; needed only when the model has several (and none is `logits`). */
  readonly output?: string;
  /** What the output holds; default 'logits'. Probabilities are not put through a softmax again. */
  readonly outputKind?: OutputKind;
}

/** Why a teacher does not fit: it cannot be opened, or which part of it does not match. */
export type OnnxTeacherMismatch = 'open' | 'names' | 'input' | 'batch' | 'output';

/** A site-provided ONNX teacher that does not fit the federation; the message names the model. */
export class OnnxTeacherError extends RangeError {
  override readonly name = 'OnnxTeacherError';
  constructor(
    message: string,
    readonly mismatch: OnnxTeacherMismatch,
  ) {
    super(message);
  }
}

// Rows of a probabilities output must sum to 1 within this (float32 softmax of a few classes).
const SUM_TOLERANCE = 1e-3;

/**
 * Opens teacher `index` and checks it against the federation: its input takes
 * [N, ...inputShape] float32, its output gives [N, classes], the batch dimension works for more
 * than one input (or is fixed, and then the predictor runs that many at a time), and an output
 * declared 'probabilities' holds rows that sum to 1 (one declared 'logits' must not look like
 * probabilities, which a softmax would flatten). Every refusal names the model, its actual
 * inputs and outputs (names, element types, shapes) and what was expected.
 */
export async function openOnnxTeacher(
  t: OnnxTeacherModel,
  index: number,
  inputShape: readonly number[],
  classes: number,
  o: { threads?: number; provider?: ExecutionProvider } = {},
): Promise<Predictor> {
  const label = `teacher model ${index}${t.file ? ` (${t.file})` : ''}`;
  const p = await Predictor.create(t.model, inputShape, {
    ...o,
    input: t.input,
    output: t.output,
    outputKind: t.outputKind,
  }).catch((err: Error) => {
    if (err instanceof ModelSignatureError) throw new OnnxTeacherError(`${label}: ${err.message}`, 'names');
    throw new OnnxTeacherError(`${label} cannot be opened: ${err.message}`, 'open');
  });
  try {
    checkSignature(p, label, inputShape, classes);
    await probe(p, label, inputShape, classes);
    return p;
  } catch (err) {
    await p.dispose();
    throw err;
  }
}

function checkSignature(p: Predictor, label: string, inputShape: readonly number[], classes: number) {
  const s = p.signature;
  const has = `${label} has ${describeSignature(s)}`;
  const input = s.inputs.find((v) => v.name === p.input);
  const output = s.outputs.find((v) => v.name === p.output);
  const wanted = `[N, ${inputShape.join(', ')}]`;
  if (input && input.type !== 'float32')
    throw new OnnxTeacherError(
      `${label} takes ${input.type} input '${input.name}'; fedistill feeds float32 ${wanted} (${has})`,
      'input',
    );
  const dims = input?.shape ?? [];
  if (
    dims.length > 0 &&
    (dims.length !== inputShape.length + 1 ||
      inputShape.some((d, i) => typeof dims[i + 1] === 'number' && dims[i + 1] !== d))
  )
    throw new OnnxTeacherError(
      `${label} does not take inputs of shape ${wanted} (the federation's input.shape is [${inputShape.join(', ')}]): its input is ${describeValues(input ? [input] : [])}`,
      'input',
    );
  if (output && output.type !== 'float32' && output.type !== 'float64')
    throw new OnnxTeacherError(
      `${label}: output '${output.name}' is ${output.type}; expected float32 (${has})`,
      'output',
    );
  const k = output?.shape[1];
  if (
    output &&
    output.shape.length > 0 &&
    (output.shape.length !== 2 || (typeof k === 'number' && k !== classes))
  )
    throw new OnnxTeacherError(
      `${label} gives ${output.shape.length === 2 ? k : `[${output.shape.join(', ')}]`} outputs; the federation has ${classes} classes: expected output '${output.name}' [N, ${classes}] (${has})`,
      'output',
    );
}

async function probe(p: Predictor, label: string, inputShape: readonly number[], classes: number) {
  const per = inputShape.reduce((a, b) => a * b, 1);
  // Two rows, so that a graph that fixes the batch inside (a reshape to 1, say) shows here and
  // not in a round; deterministic values that are not all equal.
  const x = Float32Array.from({ length: 2 * per }, (_, i) => Math.sin(i + 1));
  const has = describeSignature(p.signature);
  let out: Float32Array;
  try {
    out = await p.outputs(x, 2);
  } catch (err) {
    const one = await p.outputs(x.subarray(0, per), 1).then(
      () => true,
      () => false,
    );
    if (one && p.fixedBatch === undefined)
      throw new OnnxTeacherError(
        `${label} runs on one input at a time only: its input declares a dynamic batch but the graph fixes it (${(err as Error).message.split('\n')[0]}); export it with a dynamic batch throughout (torch.onnx.export dynamic_axes on the input and output, no reshape to a batch of 1), or with a fixed batch of 1 (${has})`,
        'batch',
      );
    throw new OnnxTeacherError(
      `${label} does not take inputs of shape [N, ${inputShape.join(', ')}]: ${(err as Error).message.split('\n')[0]} (${has})`,
      'input',
    );
  }
  if (out.length !== 2 * classes)
    throw new OnnxTeacherError(
      `${label} gives ${out.length / 2} outputs; the federation has ${classes} classes (${has})`,
      'output',
    );
  const rows = [out.subarray(0, classes), out.subarray(classes)];
  const probabilities = rows.every(
    (r) => r.every((v) => v >= 0 && v <= 1) && Math.abs(r.reduce((a, v) => a + v, 0) - 1) <= SUM_TOLERANCE,
  );
  if (p.outputKind === 'probabilities' && !probabilities)
    throw new OnnxTeacherError(
      `${label}: output '${p.output}' is declared probabilities, but its rows are not in [0, 1] summing to 1 (${fmt(rows[0])}); if it holds logits, say outputKind logits (${has})`,
      'output',
    );
  if (p.outputKind === 'logits' && probabilities)
    throw new OnnxTeacherError(
      `${label}: output '${p.output}' is taken as logits, but its rows are probabilities (in [0, 1], summing to 1: ${fmt(rows[0])}), which a softmax would flatten; say outputKind probabilities (${has})`,
      'output',
    );
}

const fmt = (r: Float32Array | undefined) => `[${Array.from(r ?? [], (v) => v.toPrecision(4)).join(', ')}]`;
