/**
 * Epsilon as a privacy officer reads it: three significant digits (6.8292521421520025 → "6.83",
 * 0.012345 → "0.0123"), whole numbers from 100 up. The accountant's figure is an upper bound
 * computed at a few Rényi orders: digits past the third are not information. The JSON report
 * keeps every digit, for machines.
 */
export function formatEpsilon(epsilon: number): string {
  if (!Number.isFinite(epsilon)) return String(epsilon);
  if (epsilon === 0) return '0';
  if (Math.abs(epsilon) >= 100) return String(Math.round(epsilon));
  return String(Number(epsilon.toPrecision(3)));
}

/**
 * The one sentence that explains why a column of per-round epsilons sums to more than the total:
 * the total is the RDP composition of the rounds (Mironov 2017, arXiv:1702.07476), converted to
 * (ε, δ) once, not the sum of each round's own (ε, δ).
 */
export const COMPOSITION_NOTE =
  "Each round's epsilon is what that round alone would cost; the total composes all rounds with the Rényi (RDP) accountant and converts to (epsilon, delta) once, which costs less than adding the rounds' figures, so the column sums to more than the total.";

/** The Rounds table's label for a row that is not a round: what its messages were. */
export function roundLabel(round: string, what: readonly string[]): string {
  return round === '' ? `none (outside rounds: ${what.join(', ') || 'other messages'})` : round;
}
