import { GraphBuildError, UnsupportedOpError } from '../graph/errors';
import { type Tensor, formatShape } from '../graph/tensor';
import { add } from '../ops/math';
import { gradRules } from './rules';

/**
 * Reverse-mode differentiation (Griewank & Walther, "Evaluating Derivatives", ch. 3): walks
 * the graph's nodes backwards from `loss`, emitting each op's gradient rule as ONNX ops into
 * the same graph, and returns d loss / d t for each tensor of `wrt` (in the same order).
 * A tensor of `wrt` that does not reach the loss gets a zero gradient.
 * @throws UnsupportedOpError when a node between `wrt` and the loss has no gradient rule.
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  const g = loss.graph;
  if (loss.size !== 1) throw new TypeError(`'loss' must hold one value, got shape ${loss.describe()}`);
  const depends = new Set(wrt.map((t) => t.name));
  const nodes = [...g.nodes];
  for (const node of nodes) {
    if (node.inputs.some((t) => t && depends.has(t.name))) node.outputs.forEach((t) => depends.add(t.name));
  }
  const grads = new Map<string, Tensor>();
  grads.set(loss.name, g.constant(new Float32Array(1).fill(1), loss.shape as number[]));
  for (let i = nodes.length - 1; i >= 0; i -= 1) {
    const node = nodes[i]!;
    const dOut = node.outputs.map((t) => grads.get(t.name) ?? null);
    const needed = node.inputs.map((t) => t !== null && depends.has(t.name));
    if (dOut.every((d) => d === null) || !needed.some(Boolean)) continue;
    const rule = gradRules[node.op];
    if (!rule) {
      throw new UnsupportedOpError(
        node.op,
        'has no gradient rule, so a parameter cannot be trained through it',
      );
    }
    const dIn = rule({ graph: g, node, dOut, needed });
    node.inputs.forEach((t, j) => {
      const d = dIn[j];
      if (!t || !needed[j] || !d) return;
      if (formatShape(d.shape) !== formatShape(t.shape)) {
        throw new GraphBuildError(
          node.op,
          `gradient shape ${d.describe()} differs from input ${t.describe()}`,
        );
      }
      const prev = grads.get(t.name);
      grads.set(t.name, prev ? add(prev, d) : d);
    });
  }
  return wrt.map(
    (t) => grads.get(t.name) ?? g.apply1('Expand', [g.scalar(0), g.int64s(t.shape as number[])]),
  );
}
