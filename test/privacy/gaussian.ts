/**
 * Closed forms of the continuous Gaussian mechanism, to test the PLD oracle against.
 */
import type { GridPld } from './pld';

/** erfc(x) to ~1e-14 relative: Taylor series of erf below 2.5, Lentz's continued fraction above. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    // erf(x) = 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n += 1) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n += 1) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const step = c * d;
    f *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The standard normal cdf Φ(x). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * The exact privacy curve of the Gaussian mechanism with L2 sensitivity Δ and noise σ (Balle
 * and Wang 2018, arXiv:1805.06530, Theorem 8): δ(ε) = Φ(Δ/2σ - εσ/Δ) - e^ε Φ(-Δ/2σ - εσ/Δ).
 * k compositions are the Gaussian mechanism with σ/√k.
 */
export function gaussianDelta(epsilon: number, sensitivity: number, sigma: number): number {
  const a = sensitivity / (2 * sigma);
  const b = (epsilon * sigma) / sensitivity;
  return normalCdf(a - b) - Math.exp(epsilon) * normalCdf(-a - b);
}

/**
 * The PLD of the Gaussian mechanism on the grid iΔ·h: the loss is L ~ N(η, 2η) under P and
 * N(-η, 2η) under Q, η = Δ²/(2σ²). Pessimistic: connect the dots integrated over each grid cell
 * [ε_i, ε_{i+1}] with P-mass P_i and Q-mass Q_i (the atom-wise split of pld.ts integrated, since
 * e^{-L} dP = dQ): (e^{ε_{i+1}} Q_i - P_i)/(e^h - 1) to ε_i, (e^h P_i - e^{ε_{i+1}} Q_i)/(e^h - 1)
 * to ε_{i+1}. Optimistic: each cell's P-mass at its lower end. Beyond ±14 standard deviations the
 * upper tail goes to +∞ and the lower tail onto the first point (pessimistic) or is dropped.
 */
export function gaussianGridPld(
  sensitivity: number,
  sigma: number,
  h: number,
  pessimistic: boolean,
): GridPld {
  const eta = (sensitivity * sensitivity) / (2 * sigma * sigma);
  const sd = Math.sqrt(2 * eta);
  const lo = Math.floor((eta - 14 * sd) / h);
  const hi = Math.ceil((eta + 14 * sd) / h);
  // Mass of [a, b] under N(m, sd²), from whichever tail keeps relative precision.
  const mass = (m: number, a: number, b: number): number =>
    a >= m
      ? normalCdf(-(a - m) / sd) - normalCdf(-(b - m) / sd)
      : normalCdf((b - m) / sd) - normalCdf((a - m) / sd);
  const out = new Float64Array(hi - lo + 1);
  const eh = Math.exp(h);
  for (let i = lo; i < hi; i += 1) {
    const [a, b] = [i * h, (i + 1) * h];
    const p = mass(eta, a, b);
    if (!pessimistic) {
      out[i - lo] = (out[i - lo] as number) + p;
      continue;
    }
    const q = Math.exp(b) * mass(-eta, a, b);
    out[i - lo] = (out[i - lo] as number) + Math.max(0, (q - p) / (eh - 1));
    out[i + 1 - lo] = (out[i + 1 - lo] as number) + Math.max(0, (eh * p - q) / (eh - 1));
  }
  const below = normalCdf((lo * h - eta) / sd);
  const above = normalCdf(-(hi * h - eta) / sd);
  if (pessimistic) out[0] = (out[0] as number) + below;
  return { h, lo, mass: out, inf: pessimistic ? above : 0 };
}
