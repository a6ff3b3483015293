/**
 * From Rényi DP to (ε, δ)-DP over a grid of orders.
 */

/**
 * The default grid of Rényi orders α: dense near 1 (small ε, many compositions) and sparse up
 * to 1024 (few compositions, tiny δ). Integer orders dominate so Skellam bounds apply.
 */
export const DEFAULT_ORDERS: readonly number[] = [
  1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 24, 28, 32, 40, 48, 56,
  64, 80, 96, 128, 192, 256, 384, 512, 1024,
];

/** An (ε, δ) guarantee and the order α that gave it. */
export interface EpsilonAtOrder {
  readonly epsilon: number;
  readonly order: number;
}

/**
 * The improved conversion (Canonne, Kamath, Steinke 2020, arXiv:2004.00010, Proposition 12;
 * Balle et al. 2020, "Hypothesis testing interpretations and Rényi DP", Theorem 21): (α, r)-RDP
 * implies (ε, δ)-DP with ε = r + ln((α-1)/α) - (ln δ + ln α)/(α - 1), minimised over the grid.
 * Always at most the classic ε = r + ln(1/δ)/(α-1) of Mironov 2017 (Proposition 3).
 */
export function epsilonFromRdp(
  orders: readonly number[],
  rdps: readonly number[],
  delta: number,
): EpsilonAtOrder {
  return bestOver(
    orders,
    rdps,
    delta,
    (a, r) => r + Math.log1p(-1 / a) - (Math.log(delta) + Math.log(a)) / (a - 1),
  );
}

/** The classic conversion of Mironov 2017 (arXiv:1702.07476, Proposition 3), for comparison. */
export function classicEpsilonFromRdp(
  orders: readonly number[],
  rdps: readonly number[],
  delta: number,
): EpsilonAtOrder {
  return bestOver(orders, rdps, delta, (a, r) => r + Math.log(1 / delta) / (a - 1));
}

function bestOver(
  orders: readonly number[],
  rdps: readonly number[],
  delta: number,
  convert: (alpha: number, r: number) => number,
): EpsilonAtOrder {
  if (!(delta > 0 && delta < 1)) throw new RangeError("'delta' must be in (0, 1)");
  if (orders.length !== rdps.length || orders.length === 0)
    throw new RangeError("'orders' and 'rdps' must align");
  let best: EpsilonAtOrder = { epsilon: Infinity, order: NaN };
  orders.forEach((a, i) => {
    // A zero Rényi divergence at any order means identical output distributions: ε = 0 exactly,
    // whereas the conversion formula would leave a small positive residue from ln δ / (α - 1).
    const r = rdps[i] as number;
    const eps = r === 0 ? 0 : Math.max(0, convert(a, r));
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  });
  return best;
}
