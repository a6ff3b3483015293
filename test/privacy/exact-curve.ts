/**
 * The exact privacy curve of fedistill's released mechanisms, bracketed numerically from the
 * privacy-loss distribution: an independent oracle for the RDP accountant of @fedistill/dp
 * (which this code must not import).
 *
 * The mechanism: per round, a vector of integers plus independent noise per coordinate, either
 * Skellam Sk(μ) (the sum of Skellam shares is Skellam, Agarwal, Kairouz, Liu 2021,
 * arXiv:2110.04995, §3) or the sum of `shares` discrete Gaussians N_Z(0, σ²) (Kairouz, Liu,
 * Steinke 2021, arXiv:2102.06387, §3; the sum is NOT a discrete Gaussian, so its pmf is
 * computed by convolution). A neighbouring pair differs by an integer shift vector v; with
 * independent coordinates the pair's PLD is the composition of one-dimensional shifts, and the
 * rounds compose on top. A ShiftPattern says which v: `coordinates` entries of size `shift`.
 * The noise is symmetric, so (P, Q) and (Q, P) have the same curve (x -> s - x swaps them) and
 * one direction suffices.
 *
 * Upper bound: the per-coordinate PLD, made pessimistic by "connect the dots", composed
 * coordinates x rounds times (pld.ts). Lower bound: the larger of (i) the same composition with
 * losses rounded down (tight for few compositions) and (ii) the exact curve of a post-processing
 * of the output: the sum of all shifted coordinates over all rounds, bucketed (post-processing
 * never increases a divergence, so its curve is below the mechanism's; for Gaussian-like noise
 * the sum is almost sufficient, so the bound is tight for many compositions).
 */
import { discreteGaussianPmf, type IntPmf, logAt, skellamPmf, sumOfCopies } from './noise-pmf';
import { type Atom, connectTheDots, deltaOf, epsilonFor, roundDown, selfCompose } from './pld';

/** The aggregate noise on each released coordinate. */
export type NoiseSpec =
  | { readonly kind: 'skellam'; readonly mu: number }
  | { readonly kind: 'discrete-gaussian'; readonly sigma2: number; readonly shares: number };

/** A neighbouring pair: `coordinates` released entries move by `shift` (integers >= 1). */
export interface ShiftPattern {
  readonly shift: number;
  readonly coordinates: number;
}

/** The true ε at δ lies in [lower, upper]. */
export interface EpsilonBracket {
  readonly lower: number;
  readonly upper: number;
}

const pmfs = new Map<string, IntPmf>();

/** The pmf of one coordinate's aggregate noise (memoized: the bounds and cases share them). */
export function noisePmf(n: NoiseSpec): IntPmf {
  const key = JSON.stringify(n);
  const known = pmfs.get(key);
  if (known) return known;
  if (n.kind === 'discrete-gaussian' && (!Number.isInteger(n.shares) || n.shares < 1))
    throw new RangeError("'shares' must be an integer >= 1");
  const pmf = n.kind === 'skellam' ? skellamPmf(n.mu) : sumOfCopies(discreteGaussianPmf(n.sigma2), n.shares);
  pmfs.set(key, pmf);
  return pmf;
}

/**
 * The PLD atoms of P = noise, Q = noise + s. Where Q's window ends the loss is set to +∞, and
 * the mass outside P's window goes to +∞ too (both pessimistic).
 */
export function shiftAtoms(pmf: IntPmf, s: number): { atoms: Atom[]; inf: number } {
  const atoms: Atom[] = [];
  let inf = pmf.missing;
  pmf.logp.forEach((lp, i) => {
    if (lp === -Infinity) return;
    const lq = logAt(pmf, pmf.offset + i - s);
    if (lq === -Infinity) inf += Math.exp(lp);
    else atoms.push({ loss: lp - lq, p: Math.exp(lp) });
  });
  return { atoms, inf };
}

function lossStd(atoms: readonly Atom[]): number {
  let m = 0;
  let w = 0;
  for (const a of atoms) {
    m += a.p * a.loss;
    w += a.p;
  }
  m /= w;
  let v = 0;
  for (const a of atoms) v += a.p * (a.loss - m) ** 2;
  return Math.sqrt(v / w);
}

/** Options: `delta`; the grid's starting step as a fraction of one coordinate's loss std. */
export interface BracketOptions {
  readonly delta: number;
  readonly rounds: number;
  /** Grid points kept after each composition (cost grows with its square); default 2000. */
  readonly maxPoints?: number;
  /** Initial grid step / per-coordinate loss std; default 1/40. */
  readonly step?: number;
}

/** Rigorous upper bound on ε(δ) of the pattern over `rounds` rounds. */
export function upperEpsilon(noise: NoiseSpec, pattern: ShiftPattern, o: BracketOptions): number {
  const { atoms, inf } = shiftAtoms(noisePmf(noise), pattern.shift);
  const h = Math.max(lossStd(atoms) * (o.step ?? 1 / 40), 1e-9);
  const one = connectTheDots(atoms, inf, h);
  const all = selfCompose(one, pattern.coordinates * o.rounds, true, o.maxPoints ?? 2000);
  return epsilonFor((e) => deltaOf(all, e), o.delta, true);
}

/** Rigorous lower bound on ε(δ) of the pattern over `rounds` rounds. */
export function lowerEpsilon(noise: NoiseSpec, pattern: ShiftPattern, o: BracketOptions): number {
  const pmf = noisePmf(noise);
  const copies = pattern.coordinates * o.rounds;
  const { atoms } = shiftAtoms(pmf, pattern.shift);
  let best = 0;
  if (copies <= 16) {
    // Rounding down costs up to h per copy: a fine grid keeps that below 1/25 of one loss std.
    const h = Math.max(lossStd(atoms) / 400, 1e-9);
    const all = selfCompose(roundDown(atoms, 0, h), copies, false, 4000);
    best = epsilonFor((e) => deltaOf(all, e), o.delta, false);
  }
  return Math.max(best, summedLowerEpsilon(pmf, pattern.shift, copies, o.delta, o.maxPoints ?? 2000));
}

/** Both bounds. */
export function epsilonBracket(noise: NoiseSpec, pattern: ShiftPattern, o: BracketOptions): EpsilonBracket {
  return { lower: lowerEpsilon(noise, pattern, o), upper: upperEpsilon(noise, pattern, o) };
}

/** A statistic's distribution under both hypotheses (sub-probabilities: tails may be cut). */
interface PmfPair {
  readonly offset: number;
  readonly p: Float64Array;
  readonly q: Float64Array;
}

function convolve(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as number;
    if (x === 0) continue;
    for (let j = 0; j < b.length; j += 1) out[i + j] = (out[i + j] as number) + x * (b[j] as number);
  }
  return out;
}

function addPairs(x: PmfPair, y: PmfPair): PmfPair {
  return { offset: x.offset + y.offset, p: convolve(x.p, y.p), q: convolve(x.q, y.q) };
}

// floor(T / 2): a post-processing of T, so the pair's curve can only go down.
function halve(x: PmfPair): PmfPair {
  const offset = Math.floor(x.offset / 2);
  const len = Math.floor((x.offset + x.p.length - 1) / 2) - offset + 1;
  const p = new Float64Array(len);
  const q = new Float64Array(len);
  for (let i = 0; i < x.p.length; i += 1) {
    const j = Math.floor((x.offset + i) / 2) - offset;
    p[j] = (p[j] as number) + (x.p[i] as number);
    q[j] = (q[j] as number) + (x.q[i] as number);
  }
  return { offset, p, q };
}

// Cuts both ends where p and q are both negligible (each cut end holds <= 1e-40 of each).
function cut(x: PmfPair): PmfPair {
  let a = 0;
  let pa = 0;
  let qa = 0;
  while (a < x.p.length - 1 && pa + (x.p[a] as number) < 1e-40 && qa + (x.q[a] as number) < 1e-40) {
    pa += x.p[a] as number;
    qa += x.q[a++] as number;
  }
  let b = x.p.length - 1;
  let pb = 0;
  let qb = 0;
  while (b > a && pb + (x.p[b] as number) < 1e-40 && qb + (x.q[b] as number) < 1e-40) {
    pb += x.p[b] as number;
    qb += x.q[b--] as number;
  }
  return { offset: x.offset + a, p: x.p.slice(a, b + 1), q: x.q.slice(a, b + 1) };
}

/**
 * Lower bound from the post-processed output "sum of all shifted coordinates, halved (floored)
 * whenever the window grows past `maxPoints`". Cutting tails makes p and q sub-probabilities
 * p' <= p, q' <= q; with A = {p' > e^ε q'}, δ(ε) >= P(A) - e^ε Q(A) >= p'(A) - e^ε (q'(A) + m_q),
 * m_q = 1 - Σq' bounding the Q-mass that was cut.
 */
function summedLowerEpsilon(
  pmf: IntPmf,
  s: number,
  copies: number,
  delta: number,
  maxPoints: number,
): number {
  const len = pmf.logp.length + s;
  const one: PmfPair = {
    offset: pmf.offset,
    p: Float64Array.from({ length: len }, (_, i) => Math.exp(logAt(pmf, pmf.offset + i))),
    q: Float64Array.from({ length: len }, (_, i) => Math.exp(logAt(pmf, pmf.offset + i - s))),
  };
  // A statistic with the number of halvings applied to it, so operands meet at one scale.
  type Stat = { readonly pair: PmfPair; readonly level: number };
  const fit = (x: Stat): Stat => {
    let pair = cut(x.pair);
    let level = x.level;
    while (pair.p.length > maxPoints) {
      pair = cut(halve(pair));
      level += 1;
    }
    return { pair, level };
  };
  const at = (x: Stat, to: number): PmfPair => {
    let pair = x.pair;
    for (let l = x.level; l < to; l += 1) pair = halve(pair);
    return pair;
  };
  const add = (x: Stat, y: Stat): Stat => {
    const to = Math.max(x.level, y.level);
    return fit({ pair: addPairs(at(x, to), at(y, to)), level: to });
  };
  // Repeated squaring over the copies.
  let result: Stat | null = null;
  let power = fit({ pair: one, level: 0 });
  for (let k = copies; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) result = result ? add(result, power) : power;
    if (k > 1) power = add(power, power);
  }
  const pair = (result as Stat).pair;
  let qMass = 0;
  for (const v of pair.q) qMass += v;
  const qMissing = Math.max(0, 1 - qMass) + 1e-15;
  const deltaLow = (eps: number): number => {
    const t = Math.exp(eps);
    let d = 0;
    for (let i = 0; i < pair.p.length; i += 1)
      d += Math.max(0, (pair.p[i] as number) - t * (pair.q[i] as number));
    return d - t * qMissing;
  };
  return epsilonFor(deltaLow, delta, false);
}
