/**
 * Privacy-loss distributions (PLD) on a uniform grid, composed by direct convolution (no FFT,
 * so tiny probabilities keep their relative precision), for the independent privacy oracle.
 *
 * For a pair (P, Q) the privacy loss is L(x) = ln P(x)/Q(x) with x ~ P, and the pair's privacy
 * curve is δ(ε) = E[(1 - e^{ε - L})_+] (+ P(L = ∞)) (Sommer, Meiser, Mohammadi 2019,
 * arXiv:1809.10752; Koskela, Jälkö, Honkela 2020, arXiv:1906.03049). Composing independent
 * mechanisms adds their losses, i.e. convolves their PLDs.
 *
 * Upper bounds use "connect the dots" (Doroshenko, Ghazi, Kamath, Kumar, Manurangsi 2022,
 * arXiv:2207.04380, §3): an atom at loss L between grid points ε_i < L < ε_{i+1} is split between
 * the two so that the grid PLD's curve is the chord, in y = e^ε, of the true curve (which is
 * convex in y), hence above it; the split keeps both the total mass and E[e^{-L}], so the
 * result is the PLD of a valid pair that dominates the original one, and domination survives
 * composition. The error is second order in the grid step, unlike rounding every loss up.
 *
 * Why domination composes without further conditions: δ of a composition is
 * E_{L2}[δ_1(ε - L2)], so a curve that is pointwise above another for every ε stays above after
 * composing with anything; every step below (splitting, trimming, coarsening) is such a
 * pointwise bound, up to floating-point rounding.
 */

/** A PLD whose finite losses lie on the grid (lo + i)·h. */
export interface GridPld {
  readonly h: number;
  /** Grid index of mass[0]. */
  readonly lo: number;
  readonly mass: Float64Array;
  /** P(L = +∞): mass that distinguishes the pair outright (or that we gave up bounding). */
  readonly inf: number;
}

/** One atom of a PLD: loss and its probability under P. */
export interface Atom {
  readonly loss: number;
  readonly p: number;
}

/** Pessimistic (dominating) grid PLD of `atoms` plus `inf` mass at +∞, grid step `h`. */
export function connectTheDots(atoms: readonly Atom[], inf: number, h: number): GridPld {
  if (!(h > 0)) throw new RangeError("'h' must be > 0");
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of atoms) {
    if (a.p <= 0) continue;
    lo = Math.min(lo, Math.floor(a.loss / h));
    hi = Math.max(hi, Math.ceil(a.loss / h));
  }
  if (lo === Infinity) return { h, lo: 0, mass: new Float64Array(1), inf };
  const mass = new Float64Array(hi - lo + 1);
  const eh = Math.exp(h);
  for (const a of atoms) {
    if (a.p <= 0) continue;
    const i = Math.floor(a.loss / h);
    // r = e^{ε_i - L} in (e^-h, 1]; weights (r e^h - 1)/(e^h - 1) below, (1 - r) e^h/(e^h - 1) above.
    const up = Math.min(1, Math.max(0, (-Math.expm1(i * h - a.loss) * eh) / (eh - 1)));
    mass[i - lo] = (mass[i - lo] as number) + a.p * (1 - up);
    if (up > 0) mass[i + 1 - lo] = (mass[i + 1 - lo] as number) + a.p * up;
  }
  return { h, lo, mass, inf };
}

/**
 * Optimistic grid PLD: every loss rounded DOWN to the grid. Coupling each loss with its rounded
 * value, a sum of rounded losses is never above the true sum, so every composed curve is a lower
 * bound (the bias is up to h per composed copy, so this is for few compositions).
 */
export function roundDown(atoms: readonly Atom[], inf: number, h: number): GridPld {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of atoms) {
    if (a.p <= 0) continue;
    lo = Math.min(lo, Math.floor(a.loss / h));
    hi = Math.max(hi, Math.floor(a.loss / h));
  }
  if (lo === Infinity) return { h, lo: 0, mass: new Float64Array(1), inf };
  const mass = new Float64Array(hi - lo + 1);
  for (const a of atoms) {
    const i = Math.floor(a.loss / h) - lo;
    if (a.p > 0) mass[i] = (mass[i] as number) + a.p;
  }
  return { h, lo, mass, inf };
}

/** The atoms of a grid PLD (finite losses only). */
export function atomsOf(d: GridPld): Atom[] {
  const out: Atom[] = [];
  d.mass.forEach((p, i) => {
    if (p > 0) out.push({ loss: (d.lo + i) * d.h, p });
  });
  return out;
}

/** The PLD on a grid twice as coarse, pessimistically (connect the dots) or optimistically. */
export function coarsen(d: GridPld, pessimistic: boolean): GridPld {
  const atoms = atomsOf(d);
  return pessimistic ? connectTheDots(atoms, d.inf, 2 * d.h) : roundDown(atoms, d.inf, 2 * d.h);
}

/**
 * Drops tails of total mass <= `tail` each: the upper tail goes to +∞ and the lower tail onto
 * the lowest kept point when pessimistic (both raise losses), and both are dropped (losses to
 * -∞) when optimistic.
 */
export function trim(d: GridPld, pessimistic: boolean, tail = 1e-30): GridPld {
  let a = 0;
  let low = 0;
  while (a < d.mass.length - 1 && low + (d.mass[a] as number) <= tail) low += d.mass[a++] as number;
  let b = d.mass.length - 1;
  let high = 0;
  while (b > a && high + (d.mass[b] as number) <= tail) high += d.mass[b--] as number;
  const mass = d.mass.slice(a, b + 1);
  if (pessimistic) mass[0] = (mass[0] as number) + low;
  return { h: d.h, lo: d.lo + a, mass, inf: d.inf + (pessimistic ? high : 0) };
}

/** The PLD of the composition of two independent mechanisms (same grid step). */
export function compose(x: GridPld, y: GridPld): GridPld {
  if (x.h !== y.h) throw new RangeError('PLDs must share the grid step');
  const mass = new Float64Array(x.mass.length + y.mass.length - 1);
  for (let i = 0; i < x.mass.length; i += 1) {
    const p = x.mass[i] as number;
    if (p === 0) continue;
    for (let j = 0; j < y.mass.length; j += 1)
      mass[i + j] = (mass[i + j] as number) + p * (y.mass[j] as number);
  }
  return { h: x.h, lo: x.lo + y.lo, mass, inf: x.inf + y.inf - x.inf * y.inf };
}

/**
 * `n`-fold composition by repeated squaring; whenever a PLD would exceed `maxPoints` grid
 * points the grid is made twice as coarse (pessimistically or optimistically as asked).
 */
export function selfCompose(d: GridPld, n: number, pessimistic: boolean, maxPoints = 3000): GridPld {
  if (!Number.isInteger(n) || n < 1) throw new RangeError("'n' must be an integer >= 1");
  const fit = (x: GridPld): GridPld => {
    let out = trim(x, pessimistic);
    while (out.mass.length > maxPoints) out = trim(coarsen(out, pessimistic), pessimistic);
    return out;
  };
  const sameGrid = (a: GridPld, b: GridPld): [GridPld, GridPld] => {
    let [p, q] = [a, b];
    while (p.h < q.h) p = coarsen(p, pessimistic);
    while (q.h < p.h) q = coarsen(q, pessimistic);
    return [p, q];
  };
  let result: GridPld | null = null;
  let power = fit(d);
  for (let k = n; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) result = result ? fit(compose(...sameGrid(result, power))) : power;
    if (k > 1) power = fit(compose(power, power));
  }
  return result as GridPld;
}

/** δ(ε) of a grid PLD. */
export function deltaOf(d: GridPld, epsilon: number): number {
  let s = d.inf;
  for (let i = d.mass.length - 1; i >= 0; i -= 1) {
    const loss = (d.lo + i) * d.h;
    if (loss <= epsilon) break;
    s += (d.mass[i] as number) * -Math.expm1(epsilon - loss);
  }
  return s;
}

/**
 * The smallest ε >= 0 with δ(ε) <= `delta`, to within `tol`, rounded UP (for an upper curve) or
 * the largest ε with δ(ε) > `delta` rounded DOWN (for a lower curve); δ is non-increasing in ε.
 */
export function epsilonFor(
  delta: (eps: number) => number,
  target: number,
  upper: boolean,
  tol = 1e-7,
): number {
  if (delta(0) <= target) return 0;
  let lo = 0;
  let hi = 1;
  while (delta(hi) > target) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) return Infinity;
  }
  while (hi - lo > tol) {
    const mid = (lo + hi) / 2;
    if (delta(mid) > target) lo = mid;
    else hi = mid;
  }
  return upper ? hi : lo;
}
