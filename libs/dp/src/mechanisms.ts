/**
 * Rényi DP curves ε(α) of the mechanisms fedistill releases, for one application with the
 * stated sensitivities. The privacy unit is one record at one site: each teacher trains on a
 * disjoint partition, so a record changes one teacher's contribution (a soft-label vector
 * clipped to L2 norm C, or a one-hot vote), and the sensitivities below are those of one
 * teacher's contribution to the released sum (e.g. 2C, or sqrt(2) for a changed vote).
 */

/** A mechanism and its parameters; all sensitivities are of one release, in the noise's units. */
export type Mechanism =
  /** Gaussian noise N(0, σ²), or one discrete Gaussian N_Z(0, σ²): both (α, αΔ²/(2σ²))-RDP. */
  | { readonly kind: 'gaussian'; readonly sigma: number; readonly l2: number }
  /** Sum of `summands` independent N_Z(0, σ²) shares (σ per site), vector of `dimension` entries. */
  | {
      readonly kind: 'distributed-discrete-gaussian';
      readonly sigma: number;
      readonly summands: number;
      readonly dimension: number;
      readonly l2: number;
      readonly l1: number;
    }
  /** Skellam Sk(μ) = Poisson(μ) - Poisson(μ) per coordinate (variance 2μ), the aggregate noise. */
  | { readonly kind: 'skellam'; readonly mu: number; readonly l2: number; readonly l1: number }
  /** GNMax: argmax of vote counts + N(0, σ²) noise; one answered query. */
  | { readonly kind: 'gnmax'; readonly sigma: number }
  /** The consensus check of confident GNMax: max count + N(0, σ1²) >= T; one checked query. */
  | { readonly kind: 'gnmax-threshold'; readonly sigma: number };

/** ε(α) of one application of `m` at Rényi order α > 1; Infinity where no bound is known. */
export function rdp(m: Mechanism, alpha: number): number {
  if (!(alpha > 1)) throw new RangeError("'alpha' must be > 1");
  switch (m.kind) {
    case 'gaussian':
      // Mironov 2017 (arXiv:1702.07476), Table II; for N_Z the same bound, CKS20 (arXiv:2004.00010) §2.
      return (alpha * m.l2 * m.l2) / (2 * m.sigma * m.sigma);
    case 'distributed-discrete-gaussian':
      return rdpDistributedDiscreteGaussian(m, alpha);
    case 'skellam':
      return rdpSkellam(m, alpha);
    case 'gnmax':
      // Papernot et al. 2018 (arXiv:1802.08908), Proposition 8: (λ, λ/σ²)-RDP, data-independent.
      return alpha / (m.sigma * m.sigma);
    case 'gnmax-threshold':
      // The max vote count has sensitivity 1, so the check is a Gaussian mechanism (ibid., §4.2).
      return alpha / (2 * m.sigma * m.sigma);
  }
}

// Kairouz, Liu, Steinke 2021 (arXiv:2102.06387), Theorem 1 / Proposition 14: with
// τ = 10 Σ_{k=1}^{n-1} exp(-2π²σ² k/(k+1)), the sum of n shares N_Z(0, σ²) gives
// ε(α) <= min{ αΔ2²/(2nσ²) + τd, (α/2)(Δ2²/(nσ²) + 2Δ1τ/(√n σ) + τ²d), (α/2)(Δ2/(√n σ) + τ√d)² }.
function rdpDistributedDiscreteGaussian(
  m: Extract<Mechanism, { kind: 'distributed-discrete-gaussian' }>,
  alpha: number,
): number {
  const { sigma, summands: n, dimension: d, l2, l1 } = m;
  let tau = 0;
  for (let k = 1; k < n; k++) tau += Math.exp((-2 * Math.PI * Math.PI * sigma * sigma * k) / (k + 1));
  tau *= 10;
  const nv = n * sigma * sigma;
  const sd = Math.sqrt(n) * sigma;
  const a = (alpha * l2 * l2) / (2 * nv) + tau * d;
  const b = (alpha / 2) * ((l2 * l2) / nv + (2 * l1 * tau) / sd + tau * tau * d);
  const c = (alpha / 2) * (l2 / sd + tau * Math.sqrt(d)) ** 2;
  return Math.min(a, b, c);
}

// Agarwal, Kairouz, Liu 2021 (arXiv:2110.04995), §3 (RDP of the multidimensional Skellam), stated
// for integer orders: ε(α) <= αΔ2²/(4μ) + min{ ((2α-1)Δ2² + 6Δ1)/(16μ²), 3Δ1/(4μ) }.
function rdpSkellam(m: Extract<Mechanism, { kind: 'skellam' }>, alpha: number): number {
  if (!Number.isInteger(alpha)) return Infinity;
  const { mu, l2, l1 } = m;
  const lead = (alpha * l2 * l2) / (4 * mu);
  return lead + Math.min(((2 * alpha - 1) * l2 * l2 + 6 * l1) / (16 * mu * mu), (3 * l1) / (4 * mu));
}

/** Throws RangeError naming the first parameter of `m` out of its range. */
export function validateMechanism(m: Mechanism): void {
  const positive = (name: string, v: number): void => {
    if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`'${name}' must be a finite number > 0`);
  };
  if ('sigma' in m) positive('sigma', m.sigma);
  if ('mu' in m) positive('mu', m.mu);
  if ('l2' in m) positive('sensitivity', m.l2);
  if ('l1' in m) positive('l1', m.l1);
  if (m.kind === 'distributed-discrete-gaussian') {
    if (!Number.isInteger(m.summands) || m.summands < 1)
      throw new RangeError("'summands' must be an integer >= 1");
    if (!Number.isInteger(m.dimension) || m.dimension < 1)
      throw new RangeError("'dimension' must be an integer >= 1");
  }
}
