import type { Tensor } from '../graph/tensor';
import { add, div, minimum, mul, pow, sqrt, sub } from '../ops/math';
import { reduceSum } from '../ops/shape-ops';
import { type ScheduleSpec, scheduledLr, validateSchedule } from './schedule';

/** Options shared by every optimizer. */
interface Common {
  /** Base learning rate, > 0. */
  readonly lr: number;
  /** Weight decay >= 0 (L2 added to the gradient; decoupled for AdamW). Default 0. */
  readonly weightDecay?: number;
  /** Learning-rate schedule (default constant). */
  readonly schedule?: ScheduleSpec;
  /** Clip the global gradient norm to this value (> 0) before the update (Pascanu et al., arXiv:1211.5063, section 3.2). */
  readonly clipNorm?: number;
}

/** Optimizer settings; the update runs inside the training graph. */
export type OptimizerSpec =
  | (Common & {
      readonly kind: 'sgd';
      /** Momentum in [0, 1), default 0. */ readonly momentum?: number;
      readonly nesterov?: boolean;
    })
  | (Common & {
      readonly kind: 'adam' | 'adamw';
      /** Decay rates in [0, 1), defaults 0.9 and 0.999; eps > 0, default 1e-8. */
      readonly beta1?: number;
      readonly beta2?: number;
      readonly eps?: number;
    });

/** A per-parameter state slot (zeros at start). */
export interface StateSlot {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Checks an optimizer spec, naming the bad setting. */
export function validateOptimizer(o: OptimizerSpec): void {
  if (!(o.lr > 0)) throw new RangeError("'lr' must be > 0");
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0))
    throw new RangeError("'weightDecay' must be >= 0");
  if (o.clipNorm !== undefined && !(o.clipNorm > 0)) throw new RangeError("'clipNorm' must be > 0");
  if (o.kind === 'sgd' && o.momentum !== undefined && !(o.momentum >= 0 && o.momentum < 1)) {
    throw new RangeError("'momentum' must be in [0, 1)");
  }
  if (o.kind === 'sgd' && o.nesterov && !(o.momentum && o.momentum > 0))
    throw new RangeError("'nesterov' needs 'momentum' > 0");
  if (o.kind !== 'sgd') {
    for (const [k, v] of [
      ['beta1', o.beta1],
      ['beta2', o.beta2],
    ] as const) {
      if (v !== undefined && !(v >= 0 && v < 1)) throw new RangeError(`'${k}' must be in [0, 1)`);
    }
    if (o.eps !== undefined && !(o.eps > 0)) throw new RangeError("'eps' must be > 0");
  }
  if (o.schedule) validateSchedule(o.schedule);
}

/** State slots per parameter: SGD with momentum keeps a velocity, Adam/AdamW two moments. */
export function optimizerSlots(o: OptimizerSpec, params: readonly StateSlot[]): StateSlot[] {
  const suffixes = o.kind === 'sgd' ? ((o.momentum ?? 0) > 0 ? ['velocity'] : []) : ['m', 'v'];
  return params.flatMap((p) => suffixes.map((s) => ({ name: `${p.name}.${s}`, shape: p.shape })));
}

/** Scales all gradients by min(1, clip / (||g||_2 + 1e-6)), the norm taken over all of them. */
function clipGlobalNorm(grads: readonly Tensor[], clip: number): Tensor[] {
  const first = grads[0];
  if (!first) return [];
  const squares = grads.map((d) => reduceSum(mul(d, d), undefined, false));
  const norm = sqrt(squares.slice(1).reduce((a, b) => add(a, b), squares[0]!));
  const scale = minimum(div(clip, add(norm, 1e-6)), 1);
  return grads.map((d) => mul(d, scale));
}

/**
 * v' = mu v + g. When g is the output of a Gemm without C that nothing else reads (a dense
 * weight's gradient), both are one Gemm with C = v and beta = mu and the gradient is never
 * stored: two element-wise passes over the weight fewer per step (docs/benchmarks.md, "Steady
 * state, idle threads and a fused update").
 */
function velocity(g: Tensor, v: Tensor, mu: number): Tensor {
  const graph = g.graph;
  const node = graph.producer(g);
  const sameShape = g.shape.length === v.shape.length && g.shape.every((d, i) => d === v.shape[i]);
  if (node?.op !== 'Gemm' || node.inputs[2] || node.outputs.length !== 1 || graph.isRead(g) || !sameShape)
    return add(mul(v, mu), g);
  const fused = graph.apply1('Gemm', [node.inputs[0]!, node.inputs[1]!, v], {
    ...node.attrs,
    beta: { f: mu },
  });
  graph.removeNode(node);
  return fused;
}

/** Inputs of one optimizer update inside the graph. */
export interface UpdateInput {
  /** Updates done before this one (float32 scalar, exact up to 2^24). */
  readonly step: Tensor;
  readonly params: readonly { name: string; value: Tensor; grad: Tensor }[];
  /** Current state by slot name (see {@link optimizerSlots}). */
  readonly state: ReadonlyMap<string, Tensor>;
}

/** Emits one update; returns the new parameters and state slots. */
export function applyOptimizer(
  o: OptimizerSpec,
  u: UpdateInput,
): { params: Tensor[]; state: Map<string, Tensor> } {
  const lr = scheduledLr(o.lr, o.schedule ?? { kind: 'constant' }, u.step);
  const grads = o.clipNorm
    ? clipGlobalNorm(
        u.params.map((p) => p.grad),
        o.clipNorm,
      )
    : u.params.map((p) => p.grad);
  const wd = o.weightDecay ?? 0;
  const state = new Map<string, Tensor>();
  const slot = (name: string): Tensor => {
    const t = u.state.get(name);
    if (!t) throw new RangeError(`optimizer state '${name}' is missing`);
    return t;
  };
  if (o.kind === 'sgd') {
    const mu = o.momentum ?? 0;
    const params = u.params.map((p, i) => {
      // Coupled L2 decay, then PyTorch-style momentum: v = mu v + g; Nesterov steps by g + mu v
      // (Sutskever et al. 2013, eq. 3-4, in the reformulation PyTorch uses).
      const g = wd > 0 ? add(grads[i]!, mul(p.value, wd)) : grads[i]!;
      if (mu === 0) return sub(p.value, mul(g, lr));
      const v = o.nesterov
        ? add(mul(slot(`${p.name}.velocity`), mu), g)
        : velocity(g, slot(`${p.name}.velocity`), mu);
      state.set(`${p.name}.velocity`, v);
      return sub(p.value, mul(o.nesterov ? add(g, mul(v, mu)) : v, lr));
    });
    return { params, state };
  }
  // Adam (Kingma & Ba, arXiv:1412.6980, Algorithm 1) with bias corrections 1 / (1 - beta^t);
  // AdamW decays weights decoupled from the gradient (Loshchilov & Hutter, arXiv:1711.05101, Alg. 2).
  const [b1, b2, eps] = [o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.eps ?? 1e-8];
  const t1 = add(u.step, 1);
  const c1 = div(1, sub(1, pow(u.step.graph.scalar(b1), t1)));
  const c2 = div(1, sub(1, pow(u.step.graph.scalar(b2), t1)));
  const params = u.params.map((p, i) => {
    const g = o.kind === 'adam' && wd > 0 ? add(grads[i]!, mul(p.value, wd)) : grads[i]!;
    const m = add(mul(slot(`${p.name}.m`), b1), mul(g, 1 - b1));
    const v = add(mul(slot(`${p.name}.v`), b2), mul(mul(g, g), 1 - b2));
    state.set(`${p.name}.m`, m);
    state.set(`${p.name}.v`, v);
    const stepDir = div(mul(m, c1), add(sqrt(mul(v, c2)), eps));
    const decayed = o.kind === 'adamw' && wd > 0 ? sub(p.value, mul(p.value, mul(lr, wd))) : p.value;
    return sub(decayed, mul(stepDir, lr));
  });
  return { params, state };
}
