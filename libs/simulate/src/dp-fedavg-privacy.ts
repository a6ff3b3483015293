/**
 * The privacy arithmetic of the DP-FedAvg baseline (Kairouz, Liu, Steinke 2021, "The distributed
 * discrete Gaussian mechanism for federated learning with secure aggregation", arXiv:2102.06387):
 * what one round releases, what the whole run costs in (ε, δ), the noise for a target ε, and
 * the ring that holds the noisy sum. Pure functions; dp-fedavg.ts runs the rounds.
 *
 * Neighbouring datasets are those of docs/privacy.md ("Accounting"): replace one record at one
 * site. That record can move its site's clipped update anywhere in the ball of radius C, and
 * after conditional randomized rounding (KLS21 §4) the integer vector anywhere in the ball of
 * radius B = roundedNormBound(C, γ, d); so the sum's L2 sensitivity is Δ2 = 2B (quantized units),
 * and Δ1 <= min(Δ2², √d·Δ2) for integer vectors, as for the product's soft-label summaries.
 */
import {
  aggregateMechanism,
  type Mechanism,
  type NoiseShareSpec,
  perSiteVariance,
  RdpAccountant,
  roundedNormBound,
} from '@fedistill/dp';

/** How the noise is split and how much of it the accounting counts on. */
export interface DpFedAvgNoiseSetup {
  /** Sites n whose updates are summed each round, integer >= 2. */
  readonly sites: number;
  /** Dropouts T the noise must survive, integer in [0, n). Default 0. */
  readonly toleratedDropouts?: number;
  /**
   * Colluders C the noise split assumes, as a federation's privacy.assumedColluders: each site
   * adds V/(n - T - C) and the accountant counts n - T - C shares. 'all' (the product's default,
   * what a paranoid site counts on) is C = n - T - 1: every site adds the whole V. Default 'all'.
   */
  readonly assumedColluders?: number | 'all';
  /** L2 clip C of one site's model update (parameter units), > 0. */
  readonly clip: number;
  /** Granularity γ of randomized rounding (parameter units per integer step), > 0. */
  readonly granularity: number;
  /** Entries d of the update (the model's parameter count), integer >= 1. */
  readonly dimension: number;
  /** β of the conditional rounding (KLS21 §4); default exp(-0.5), as libs/dp's quantize. */
  readonly beta?: number;
}

/** One round's release: sensitivities, the noise split and the mechanism the accountant charges. */
export interface DpFedAvgRelease {
  /** The setup it was planned for. */
  readonly setup: DpFedAvgNoiseSetup;
  /** The noise multiplier z. */
  readonly noiseMultiplier: number;
  /** Norm bound B of one site's rounded update (quantized units). */
  readonly normBound: number;
  /** L2 sensitivity Δ2 = 2B of the sum under replace-one (quantized units). */
  readonly l2: number;
  readonly l1: number;
  /** The distributed noise: variance V = (z·Δ2)² counted over n - T - C honest shares. */
  readonly noise: NoiseShareSpec;
  /** Variance each site adds, V/(n - T - C). */
  readonly perSiteVariance: number;
  readonly mechanism: Mechanism;
}

/** The range searched for the noise multiplier z. */
export const DP_FEDAVG_NOISE_RANGE = { min: 1e-3, max: 1e6 } as const;

/**
 * The release of one round at noise multiplier z (aggregate noise standard deviation over the
 * counted shares = z·Δ2). The accountant charges the sum of n - T - C discrete Gaussian shares
 * with KLS21's Theorem 1 (its τ term is the sum-of-shares correction); with 'all' that is one
 * discrete Gaussian, the plain Gaussian bound αΔ2²/(2V) (CKS20, arXiv:2004.00010, §2).
 * Throws RangeError naming the bad setting.
 */
export function dpFedAvgRelease(setup: DpFedAvgNoiseSetup, z: number): DpFedAvgRelease {
  const { sites: n, clip, granularity, dimension: d } = setup;
  if (!(z > 0) || !Number.isFinite(z)) throw new RangeError("'noiseMultiplier' must be a finite number > 0");
  if (!Number.isInteger(n) || n < 2) throw new RangeError("'sites' must be an integer >= 2");
  if (!(clip > 0) || !Number.isFinite(clip)) throw new RangeError("'clip' must be a finite number > 0");
  if (!(granularity > 0) || !Number.isFinite(granularity))
    throw new RangeError("'granularity' must be a finite number > 0");
  if (!Number.isInteger(d) || d < 1) throw new RangeError("'dimension' must be an integer >= 1");
  const t = setup.toleratedDropouts ?? 0;
  if (!Number.isInteger(t) || t < 0 || t >= n)
    throw new RangeError("'toleratedDropouts' must be in [0, sites)");
  const colluders = setup.assumedColluders ?? 'all';
  const c = colluders === 'all' ? n - t - 1 : colluders;
  const normBound = roundedNormBound(clip, granularity, d, setup.beta);
  const l2 = 2 * normBound;
  const l1 = Math.min(l2 * l2, Math.sqrt(d) * l2);
  const noise: NoiseShareSpec = {
    kind: 'discrete-gaussian',
    variance: (z * l2) ** 2,
    sites: n,
    toleratedDropouts: t,
    assumedColluders: c,
  };
  return {
    setup,
    noiseMultiplier: z,
    normBound,
    l2,
    l1,
    noise,
    perSiteVariance: perSiteVariance(noise),
    mechanism: aggregateMechanism(noise, { l2, l1, dimension: d }),
  };
}

/** ε at δ of `rounds` rounds at noise multiplier z, composed in libs/dp's RDP accountant. */
export function dpFedAvgEpsilon(setup: DpFedAvgNoiseSetup, z: number, rounds: number, delta: number): number {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError("'rounds' must be an integer >= 1");
  const release = dpFedAvgRelease(setup, z);
  return new RdpAccountant().add(release.mechanism, rounds).epsilon(delta).epsilon;
}

/**
 * The smallest noise multiplier z (to `precision` relative, by bisection on a log scale) at
 * which `rounds` rounds compose to ε <= targetEpsilon at δ. ε falls as z grows (every term of the
 * Gaussian and KLS21 bounds does), so bisection finds it. Throws RangeError naming
 * 'targetEpsilon' when no z in DP_FEDAVG_NOISE_RANGE reaches it.
 */
export function dpFedAvgNoiseFor(
  targetEpsilon: number,
  delta: number,
  rounds: number,
  setup: DpFedAvgNoiseSetup,
  precision = 1e-4,
): number {
  if (!(targetEpsilon > 0) || !Number.isFinite(targetEpsilon))
    throw new RangeError("'targetEpsilon' must be a finite number > 0");
  if (!(precision > 0 && precision < 1)) throw new RangeError("'precision' must be in (0, 1)");
  const fits = (z: number): boolean => dpFedAvgEpsilon(setup, z, rounds, delta) <= targetEpsilon;
  const { min, max } = DP_FEDAVG_NOISE_RANGE;
  if (!fits(max))
    throw new RangeError(
      `'targetEpsilon' ${targetEpsilon} cannot be reached with noise multiplier <= ${max} in ${rounds} rounds`,
    );
  if (fits(min)) return min;
  let lo: number = min; // misses the target
  let hi: number = max; // meets it
  while (hi / lo > 1 + precision) {
    const mid = Math.sqrt(lo * hi);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Noise tail a site's entry may carry: 20 standard deviations of its share (P < 1e-80). */
const TAIL_DEVIATIONS = 20;

/**
 * The largest magnitude one site puts in one entry: its rounded update (each entry at most the
 * norm bound) plus 20 share deviations of noise. SecAgg's sites refuse larger entries.
 */
export function dpFedAvgMaxInput(release: DpFedAvgRelease): number {
  return Math.ceil(release.normBound) + Math.ceil(TAIL_DEVIATIONS * Math.sqrt(release.perSiteVariance));
}

/**
 * The ring for the noisy sum of `sites` inputs: `bits` when given (refused with a RangeError
 * naming 'bits' when n·maxInput does not fit the signed ring, Bonawitz et al. CCS 2017 §3: the
 * modulus must exceed the true sum, else unmasking returns it reduced, silently wrong), else the
 * smallest in [8, 32] that fits.
 */
export function dpFedAvgRingBits(release: DpFedAvgRelease, sites: number, bits?: number): number {
  const need = sites * dpFedAvgMaxInput(release);
  const fits = (b: number): boolean => need <= 2 ** (b - 1) - 1;
  if (bits !== undefined) {
    if (!Number.isInteger(bits) || bits < 8 || bits > 32)
      throw new RangeError("'bits' must be an integer in [8, 32]");
    if (!fits(bits))
      throw new RangeError(
        `'bits' ${bits} too small: ${sites} sites x ${dpFedAvgMaxInput(release)} exceeds ${2 ** (bits - 1) - 1}; raise bits or granularity, or lower the noise`,
      );
    return bits;
  }
  for (let b = 8; b <= 32; b += 1) if (fits(b)) return b;
  throw new RangeError(
    `no ring of at most 32 bits holds ${sites} sites x ${dpFedAvgMaxInput(release)}: raise 'granularity' or lower the noise`,
  );
}
