import { seededUniform } from '@fedistill/data';

/**
 * Seeded sampling for experiments (partitions, query choice): reproducible, never used for
 * anything privacy-relevant (noise comes from @fedistill/dp's CSPRNG-driven samplers).
 */
export class ExperimentRandom {
  private readonly next: () => number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    this.next = seededUniform(seed);
  }

  uniform(): number {
    return this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal by the Box-Muller transform. */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    const u = Math.max(this.next(), Number.MIN_VALUE);
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Gamma(shape, 1) by Marsaglia and Tsang (2000), "A simple method for generating gamma
   * variables", ACM TOMS 26(3); shape < 1 uses the boost Gamma(shape + 1) * U^(1/shape).
   */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError("'shape' must be > 0");
    if (shape < 1)
      return this.gamma(shape + 1) * Math.pow(Math.max(this.next(), Number.MIN_VALUE), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      const u = this.next();
      if (Math.log(Math.max(u, Number.MIN_VALUE)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }

  /** A draw from Dirichlet(alpha, ..., alpha) of dimension k. */
  dirichlet(alpha: number, k: number): number[] {
    const g = Array.from({ length: k }, () => this.gamma(alpha));
    const sum = g.reduce((a, b) => a + b, 0);
    return g.map((x) => x / sum);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }
}
