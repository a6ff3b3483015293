import type { ModelDefinition, ParameterSpec } from './definition';

/**
 * A seeded PRNG for reproducible initialization and shuffling (mulberry32: 32-bit state,
 * period 2^32; fine for ML, never for anything security-relevant).
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError("'seed' must be an integer");
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/**
 * Initial values of one parameter: He normal N(0, 2 / fanIn) for ReLU layers (He et al.,
 * arXiv:1502.01852, section 2.2); Xavier uniform U(+-sqrt(6 / (fanIn + fanOut))) (Glorot &
 * Bengio, AISTATS 2010, eq. 16); zeros or ones for biases and norm scales.
 */
export function initParameter(p: ParameterSpec, rng: SeededRandom): Float32Array {
  const n = p.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (p.init === 'ones') return out.fill(1);
  if (p.init === 'zeros') return out;
  if (p.init === 'he') {
    const std = Math.sqrt(2 / p.fanIn);
    for (let i = 0; i < n; i += 1) out[i] = rng.normal() * std;
    return out;
  }
  const limit = Math.sqrt(6 / (p.fanIn + p.fanOut));
  for (let i = 0; i < n; i += 1) out[i] = (2 * rng.next() - 1) * limit;
  return out;
}

/** Values of a model's parameters and buffers. */
export interface ModelValues {
  readonly params: Map<string, Float32Array>;
  readonly buffers: Map<string, Float32Array>;
}

/** Seeded initial values for every parameter (in declaration order) and buffer. */
export function initModel(model: ModelDefinition, seed: number): ModelValues {
  const rng = new SeededRandom(seed);
  const params = new Map(model.parameters.map((p) => [p.name, initParameter(p, rng)] as const));
  const buffers = new Map(
    model.buffers.map(
      (b) => [b.name, new Float32Array(b.shape.reduce((x, y) => x * y, 1)).fill(b.fill)] as const,
    ),
  );
  return { params, buffers };
}
