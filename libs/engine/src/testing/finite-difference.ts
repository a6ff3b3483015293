import * as ort from 'onnxruntime-node';
import { gradients } from '../autodiff/gradients';
import { Graph } from '../graph/graph';
import type { Tensor } from '../graph/tensor';
import { mul } from '../ops/math';
import { reduceSum } from '../ops/shape-ops';
import { emitModel } from '../onnx/emit';

/** One differentiable input of the op under test, with the point to check at. */
export interface FdParam {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** Largest error found, for the test's message. */
export interface FdReport {
  readonly maxAbsError: number;
  readonly checked: number;
  readonly failures: string[];
}

/** Deterministic values in [-1, 1) (a 32-bit LCG; test data only). */
export function testValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/**
 * Distinct values spread at least `gap` apart, shuffled: keeps ReLU inputs away from 0 and
 * max-pool windows free of near-ties, so a step h < gap / 2 never crosses a kink.
 */
export function spreadValues(n: number, seed: number, gap = 0.05): Float32Array {
  const order = Array.from(testValues(n, seed), (v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Float32Array(n);
  order.forEach(([, i], rank) => {
    const v = (rank - n / 2 + 0.5) * gap;
    out[i] = Math.abs(v) < gap / 2 ? gap / 2 : v;
  });
  return out;
}

/**
 * Compares the engine's reverse-mode gradient of L = sum(f(params) * R), R a fixed random
 * tensor (so every output element contributes with its own weight), with central finite
 * differences (L(p + h e_i) - L(p - h e_i)) / 2h computed in float64 from float32 runs.
 * Error model for the tolerance: a float32 loss carries a rounding error of about
 * n * 2^-24 * |L| (n summed terms), which the difference divides by 2h, plus the O(h^2)
 * truncation error; `atol` and `rtol` are set by each test from that bound.
 */
export async function checkGradient(
  build: (inputs: Tensor[]) => Tensor,
  params: readonly FdParam[],
  options: { h?: number; atol?: number; rtol?: number; maxPerParam?: number } = {},
): Promise<FdReport> {
  const h = options.h ?? 1e-2;
  const atol = options.atol ?? 2e-3;
  const rtol = options.rtol ?? 1e-2;
  const g = new Graph();
  const ps = params.map((p, i) => g.param(`p${i}`, p.shape));
  const y = build(ps);
  const r = g.constant(testValues(y.size ?? 0, 99), y.shape as number[]);
  const loss = reduceSum(mul(y, r), undefined, false);
  const grads = gradients(loss, ps);
  g.output('loss', loss);
  grads.forEach((d, i) => g.output(`grad${i}`, d));
  const session = await ort.InferenceSession.create(emitModel(g, { mode: 'training' }));
  try {
    const feeds = (values: Float32Array[]) =>
      Object.fromEntries(
        values.map((v, i) => [`p${i}`, new ort.Tensor('float32', v, params[i]!.shape as number[])]),
      );
    const base = params.map((p) => Float32Array.from(p.values));
    const analytic = await session.run(feeds(base));
    const lossAt = async (values: Float32Array[]) =>
      ((await session.run(feeds(values), ['loss']))['loss']!.data as Float32Array)[0]!;
    const failures: string[] = [];
    let maxAbsError = 0;
    let checked = 0;
    for (let pi = 0; pi < params.length; pi += 1) {
      const grad = analytic[`grad${pi}`]!.data as Float32Array;
      const n = base[pi]!.length;
      const step = Math.max(1, Math.floor(n / (options.maxPerParam ?? 64)));
      for (let e = 0; e < n; e += step) {
        const orig = base[pi]![e]!;
        base[pi]![e] = orig + h;
        const up = await lossAt(base);
        base[pi]![e] = orig - h;
        const down = await lossAt(base);
        base[pi]![e] = orig;
        const numeric = (up - down) / (2 * h);
        const err = Math.abs(grad[e]! - numeric);
        maxAbsError = Math.max(maxAbsError, err);
        checked += 1;
        if (err > atol + rtol * Math.abs(numeric))
          failures.push(`p${pi}[${e}]: analytic ${grad[e]} numeric ${numeric}`);
      }
    }
    return { maxAbsError, checked, failures };
  } finally {
    await session.release();
  }
}
