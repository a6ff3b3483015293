import type { Attrs } from '../graph/graph';
import type { Dim, Tensor } from '../graph/tensor';
import { GraphBuildError } from '../graph/errors';
import { attrInt, attrInts, requireDtype, requireRank, sameDim } from './shape-utils';
import type { InferFn } from './specs';

type Inputs = readonly (Tensor | null)[];

/** Window geometry of a 2-D conv or pool, read from ONNX attributes. */
export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  /** [top, left, bottom, right] as in ONNX `pads`. */
  readonly pads: readonly [number, number, number, number];
}

/** Reads and checks kernel/stride/pad attributes of a 2-D window op. */
export function readWindow(op: string, attrs: Attrs, kernel: readonly number[]): Window2d {
  const s = attrInts(attrs, 'strides', [1, 1]);
  const p = attrInts(attrs, 'pads', [0, 0, 0, 0]);
  if (kernel.length !== 2 || s.length !== 2 || p.length !== 4) {
    throw new GraphBuildError(op, 'only 2-D windows are supported (kernel 2, strides 2, pads 4 values)');
  }
  if (
    [...kernel, ...s].some((v) => !Number.isInteger(v) || v < 1) ||
    p.some((v) => !Number.isInteger(v) || v < 0)
  ) {
    throw new GraphBuildError(
      op,
      `bad window: kernel [${kernel.join(',')}], strides [${s.join(',')}], pads [${p.join(',')}]`,
    );
  }
  if (attrInts(attrs, 'dilations', [1, 1]).some((d) => d !== 1) && op !== 'Conv') {
    throw new GraphBuildError(op, 'dilations other than 1 are not supported');
  }
  return {
    kernel: [kernel[0] ?? 1, kernel[1] ?? 1],
    strides: [s[0] ?? 1, s[1] ?? 1],
    pads: [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 0],
  };
}

/** Output size of a window along one axis (floor mode). */
export function windowOut(
  op: string,
  size: Dim,
  k: number,
  s: number,
  pBegin: number,
  pEnd: number,
  dil = 1,
): Dim {
  if (size === null) return null;
  const span = (k - 1) * dil + 1;
  const out = Math.floor((size + pBegin + pEnd - span) / s) + 1;
  if (out < 1) throw new GraphBuildError(op, `window ${k} (stride ${s}) does not fit input size ${size}`);
  return out;
}

/** Conv: X [N,C,H,W], W [M,C/group,kh,kw], optional B [M]. */
export const inferConv: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'X');
  const w = requireDtype(op, inputs[1], ['float32'], 'W');
  requireRank(op, x, 4, 'X');
  requireRank(op, w, 4, 'W');
  const group = attrInt(attrs, 'group', 1);
  const dil = attrInts(attrs, 'dilations', [1, 1]);
  if (!sameDim(w.shape[1] === null ? null : (w.shape[1] ?? 0) * group, x.shape[1])) {
    throw new GraphBuildError(
      op,
      `channels differ: X ${x.describe()} and W ${w.describe()} (group ${group})`,
    );
  }
  const win = readWindow(op, attrs, [w.shape[2] ?? 0, w.shape[3] ?? 0]);
  const b = inputs[2];
  if (b) {
    requireDtype(op, b, ['float32'], 'B');
    if (b.rank !== 1 || !sameDim(b.shape[0], w.shape[0])) {
      throw new GraphBuildError(op, `bias ${b.describe()} must be [M] with M = ${String(w.shape[0])}`);
    }
  }
  const h = windowOut(
    op,
    x.shape[2] ?? null,
    win.kernel[0],
    win.strides[0],
    win.pads[0],
    win.pads[2],
    dil[0],
  );
  const wd = windowOut(
    op,
    x.shape[3] ?? null,
    win.kernel[1],
    win.strides[1],
    win.pads[1],
    win.pads[3],
    dil[1],
  );
  return [{ dtype: 'float32', shape: [x.shape[0] ?? null, w.shape[0] ?? null, h, wd] }];
};

/** ConvTranspose: X [N,C,H,W], W [C,M/group,kh,kw]; used by the Conv and pool gradients. */
export const inferConvTranspose: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'X');
  const w = requireDtype(op, inputs[1], ['float32'], 'W');
  requireRank(op, x, 4, 'X');
  requireRank(op, w, 4, 'W');
  const group = attrInt(attrs, 'group', 1);
  if (!sameDim(w.shape[0], x.shape[1])) {
    throw new GraphBuildError(op, `channels differ: X ${x.describe()} and W ${w.describe()}`);
  }
  const win = readWindow(op, attrs, [w.shape[2] ?? 0, w.shape[3] ?? 0]);
  const op2 = attrInts(attrs, 'output_padding', [0, 0]);
  const size = (d: Dim, i: 0 | 1): Dim =>
    d === null
      ? null
      : win.strides[i] * (d - 1) + (op2[i] ?? 0) + win.kernel[i] - win.pads[i] - win.pads[i + 2]!;
  const m = w.shape[1] === null ? null : (w.shape[1] ?? 0) * group;
  return [
    {
      dtype: 'float32',
      shape: [x.shape[0] ?? null, m, size(x.shape[2] ?? null, 0), size(x.shape[3] ?? null, 1)],
    },
  ];
};

function inferPool(inputs: Inputs, attrs: Attrs, op: string): { n: Dim; c: Dim; h: Dim; w: Dim } {
  const x = requireDtype(op, inputs[0], ['float32'], 'X');
  requireRank(op, x, 4, 'X');
  const win = readWindow(op, attrs, attrInts(attrs, 'kernel_shape', []));
  if (attrInt(attrs, 'ceil_mode', 0) !== 0) throw new GraphBuildError(op, 'ceil_mode is not supported');
  const h = windowOut(op, x.shape[2] ?? null, win.kernel[0], win.strides[0], win.pads[0], win.pads[2]);
  const w = windowOut(op, x.shape[3] ?? null, win.kernel[1], win.strides[1], win.pads[1], win.pads[3]);
  return { n: x.shape[0] ?? null, c: x.shape[1] ?? null, h, w };
}

/** MaxPool giving Y and the flat Indices (int64) used by its gradient. */
export const inferMaxPool: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const { n, c, h, w } = inferPool(inputs, attrs, op);
  return [
    { dtype: 'float32', shape: [n, c, h, w] },
    { dtype: 'int64', shape: [n, c, h, w] },
  ];
};

/** AveragePool (count_include_pad must be 1 when padding, so every window divides by k*k). */
export const inferAveragePool: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const { n, c, h, w } = inferPool(inputs, attrs, op);
  const padded = attrInts(attrs, 'pads', [0, 0, 0, 0]).some((p) => p > 0);
  if (padded && attrInt(attrs, 'count_include_pad', 0) !== 1) {
    throw new GraphBuildError(op, 'padding needs count_include_pad = 1');
  }
  return [{ dtype: 'float32', shape: [n, c, h, w] }];
};

/** GlobalAveragePool: [N,C,H,W] to [N,C,1,1]. */
export const inferGlobalAveragePool: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'X');
  requireRank(op, x, 4, 'X');
  return [{ dtype: 'float32', shape: [x.shape[0] ?? null, x.shape[1] ?? null, 1, 1] }];
};

/** Resize (nearest) of [N,C,H,W] by constant integer `scales` [1, 1, sh, sw]; used by pool gradients. */
export const inferResize: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'X');
  requireRank(op, x, 4, 'X');
  const c = inputs[2] ? x.graph.constants.get(inputs[2].name) : undefined;
  if (!c || !(c.data instanceof Float32Array) || c.data.length !== 4) {
    throw new GraphBuildError(op, "'scales' must be a constant of 4 floats");
  }
  const sc = Array.from(c.data);
  if (sc[0] !== 1 || sc[1] !== 1 || !sc.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new GraphBuildError(op, `scales [${sc.join(',')}] must be [1, 1, integer, integer]`);
  }
  const mul = (d: Dim | undefined, k: number): Dim => (d === null || d === undefined ? null : d * k);
  return [
    {
      dtype: 'float32',
      shape: [x.shape[0] ?? null, x.shape[1] ?? null, mul(x.shape[2], sc[2]!), mul(x.shape[3], sc[3]!)],
    },
  ];
};
