import type { Graph, GraphNode } from '../graph/graph';
import { GraphBuildError } from '../graph/errors';
import type { Tensor } from '../graph/tensor';
import { gemm } from '../ops/math';
import { reshape } from '../ops/shape-ops';

/** What a gradient rule sees: the forward node and the gradients of its outputs. */
export interface GradContext {
  readonly graph: Graph;
  readonly node: GraphNode;
  /** Gradient of the loss with respect to each output; null when an output does not reach the loss. */
  readonly dOut: readonly (Tensor | null)[];
  /** Which inputs need a gradient (depend on a parameter). */
  readonly needed: readonly boolean[];
}

/**
 * A reverse-mode rule: emits ONNX ops computing the gradient of the loss with respect to each
 * input from the gradients of the outputs. Returns null where no gradient is needed.
 */
export type GradRule = (ctx: GradContext) => (Tensor | null)[];

/** Input `i` of the node, which must exist. */
export function inputOf(ctx: GradContext, i: number): Tensor {
  const t = ctx.node.inputs[i];
  if (!t) throw new GraphBuildError(ctx.node.op, `gradient needs input ${i}`);
  return t;
}

/** Output `i` of the node. */
export function outputOf(ctx: GradContext, i: number): Tensor {
  const t = ctx.node.outputs[i];
  if (!t) throw new GraphBuildError(ctx.node.op, `gradient needs output ${i}`);
  return t;
}

/** Gradient of the first output (every differentiable op has one). */
export function dY(ctx: GradContext): Tensor {
  const t = ctx.dOut[0];
  if (!t) throw new GraphBuildError(ctx.node.op, 'no gradient reaches the first output');
  return t;
}

/** Static dims of a tensor; gradients are built on training graphs, whose shapes are all known. */
export function staticShape(op: string, t: Tensor): number[] {
  return t.shape.map((d) => {
    if (d === null) throw new GraphBuildError(op, `differentiating needs static shapes, got ${t.describe()}`);
    return d;
  });
}

const onesRows = new WeakMap<Graph, Map<number, Tensor>>();

/** A [1, m] constant of ones, one per graph and length. */
function onesRow(g: Graph, m: number): Tensor {
  let byLength = onesRows.get(g);
  if (!byLength) onesRows.set(g, (byLength = new Map()));
  let t = byLength.get(m);
  if (!t) byLength.set(m, (t = g.constant(new Float32Array(m).fill(1), [1, m])));
  return t;
}

/**
 * Sums a broadcast gradient back to the shape of the operand it came from: over the leading
 * axes the operand lacked and over axes where the operand had size 1.
 */
export function unbroadcast(op: string, grad: Tensor, target: Tensor): Tensor {
  const gs = staticShape(op, grad);
  const ts = staticShape(op, target);
  if (gs.length === ts.length && gs.every((d, i) => d === ts[i])) return grad;
  const lead = gs.length - ts.length;
  const axes: number[] = [];
  gs.forEach((d, i) => {
    if (i < lead || (ts[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const g = grad.graph;
  // A sum over leading axes (a bias broadcast over the batch) is a Gemm by a row of ones: ONNX
  // Runtime's ReduceSum over a non-trailing axis took 37 us for [128, 256], the Gemm about 1 us.
  const leading = axes.every((a, i) => a === i) && grad.dtype === 'float32';
  const m = gs.slice(0, axes.length).reduce((p, d) => p * d, 1);
  if (axes.length > 0 && leading && m > 1) {
    const n = gs.slice(axes.length).reduce((p, d) => p * d, 1);
    return reshape(gemm(onesRow(g, m), reshape(grad, [m, n])), ts);
  }
  const summed =
    axes.length > 0 ? g.apply1('ReduceSum', [grad, g.int64s(axes)], { keepdims: { i: 1 } }) : grad;
  return reshape(summed, ts);
}
