import type { Tensor } from '../graph/tensor';
import { add, div, minimum, mul, pow } from '../ops/math';

/**
 * Learning-rate schedules, evaluated inside the training graph from the step counter t
 * (updates done so far, starting at 0), so several steps per run need no host round trip.
 * `warmupSteps` (optional, any kind) multiplies by min(1, (t + 1) / warmupSteps)
 * (Goyal et al., arXiv:1706.02677, section 2.2).
 */
export type ScheduleSpec =
  | { readonly kind: 'constant'; readonly warmupSteps?: number }
  /** lr * gamma^floor(t / stepSize). */
  | {
      readonly kind: 'step';
      readonly stepSize: number;
      readonly gamma: number;
      readonly warmupSteps?: number;
    }
  /** Cosine annealing to `minLr` over `totalSteps` (Loshchilov & Hutter, arXiv:1608.03983, eq. 5, no restarts). */
  | {
      readonly kind: 'cosine';
      readonly totalSteps: number;
      readonly minLr?: number;
      readonly warmupSteps?: number;
    };

/** Checks a schedule's numbers, naming the bad one. */
export function validateSchedule(s: ScheduleSpec): void {
  if (s.warmupSteps !== undefined && !(s.warmupSteps >= 1))
    throw new RangeError("'warmupSteps' must be >= 1");
  if (s.kind === 'step' && !(s.stepSize >= 1)) throw new RangeError("'stepSize' must be >= 1");
  if (s.kind === 'step' && !(s.gamma > 0)) throw new RangeError("'gamma' must be > 0");
  if (s.kind === 'cosine' && !(s.totalSteps >= 1)) throw new RangeError("'totalSteps' must be >= 1");
}

/** The learning rate for step `t` (a float32 scalar tensor). */
export function scheduledLr(lr: number, s: ScheduleSpec, t: Tensor): Tensor {
  const g = t.graph;
  let rate: Tensor;
  if (s.kind === 'step') {
    rate = mul(pow(g.scalar(s.gamma), g.apply1('Floor', [div(t, s.stepSize)])), lr);
  } else if (s.kind === 'cosine') {
    const minLr = s.minLr ?? 0;
    const progress = div(minimum(t, s.totalSteps), s.totalSteps);
    const cos = g.apply1('Cos', [mul(progress, Math.PI)]);
    rate = add(mul(add(cos, 1), 0.5 * (lr - minLr)), minLr);
  } else {
    rate = g.scalar(lr);
  }
  if (s.warmupSteps === undefined) return rate;
  return mul(rate, minimum(div(add(t, 1), s.warmupSteps), 1));
}

/** The learning rate at step t on the host (the same formula), for logging and tests. */
export function scheduledLrAt(lr: number, s: ScheduleSpec, t: number): number {
  let rate = lr;
  if (s.kind === 'step') rate = lr * s.gamma ** Math.floor(t / s.stepSize);
  if (s.kind === 'cosine') {
    const minLr = s.minLr ?? 0;
    rate = minLr + 0.5 * (lr - minLr) * (1 + Math.cos((Math.PI * Math.min(t, s.totalSteps)) / s.totalSteps));
  }
  return s.warmupSteps === undefined ? rate : rate * Math.min((t + 1) / s.warmupSteps, 1);
}
