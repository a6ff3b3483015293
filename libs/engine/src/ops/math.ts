import type { Tensor } from '../graph/tensor';

/** A tensor, or a float32 scalar constant broadcast against the other operand. */
export type Operand = Tensor | number;

function pair(a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number')
    throw new TypeError('at least one operand must be a tensor');
  const g = typeof a === 'number' ? (b as Tensor).graph : a.graph;
  return [typeof a === 'number' ? g.scalar(a) : a, typeof b === 'number' ? g.scalar(b) : b];
}

const binary =
  (op: string) =>
  (a: Operand, b: Operand): Tensor => {
    const [x, y] = pair(a, b);
    return x.graph.apply1(op, [x, y]);
  };

/** Element-wise a + b with broadcasting. */
export const add = binary('Add');
/** Element-wise a - b with broadcasting. */
export const sub = binary('Sub');
/** Element-wise a * b with broadcasting. */
export const mul = binary('Mul');
/** Element-wise a / b with broadcasting. */
export const div = binary('Div');
/** Element-wise a ^ b with broadcasting (no gradient rule: used for constants and optimizer state). */
export const pow = binary('Pow');
/** Element-wise minimum (no gradient rule). */
export const minimum = binary('Min');
/** Element-wise maximum (no gradient rule). */
export const maximum = binary('Max');

const unary =
  (op: string) =>
  (x: Tensor): Tensor =>
    x.graph.apply1(op, [x]);

/** max(x, 0). */
export const relu = unary('Relu');
/** 1 / (1 + exp(-x)). */
export const sigmoid = unary('Sigmoid');
/** Hyperbolic tangent. */
export const tanh = unary('Tanh');
/** Exact GELU, x * Phi(x) with Phi the standard normal CDF (Hendrycks & Gimpel, arXiv:1606.08415). */
export const gelu = unary('Gelu');
/** Natural exponential. */
export const exp = unary('Exp');
/** Natural logarithm. */
export const log = unary('Log');
/** -x. */
export const neg = unary('Neg');
/** Square root. */
export const sqrt = unary('Sqrt');

/** x for x > 0, alpha * x otherwise (alpha default 0.01). */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  return x.graph.apply1('LeakyRelu', [x], { alpha: { f: alpha } });
}

/** Softmax along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return x.graph.apply1('Softmax', [x], { axis: { i: axis } });
}

/** Log-softmax along `axis` (default last), computed stably by ONNX Runtime. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return x.graph.apply1('LogSoftmax', [x], { axis: { i: axis } });
}

/**
 * Matrix product of a rank >= 2 tensor by a 2-D matrix, or batched: A [..., M, K] by B [..., K, N]
 * of the same rank (>= 3) with equal batch axes (e.g. T independent dense layers in one op).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.graph.apply1('MatMul', [a, b]);
}

/** Options of {@link gemm}. */
export interface GemmOptions {
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
}

/** alpha * op(A) op(B) + beta * C for 2-D A, B; C (optional) broadcasts to the output. */
export function gemm(a: Tensor, b: Tensor, c: Tensor | null = null, o: GemmOptions = {}): Tensor {
  return a.graph.apply1('Gemm', [a, b, c], {
    transA: { i: o.transA ? 1 : 0 },
    transB: { i: o.transB ? 1 : 0 },
    alpha: { f: o.alpha ?? 1 },
    beta: { f: o.beta ?? 1 },
  });
}
