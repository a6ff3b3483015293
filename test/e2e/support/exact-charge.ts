/**
 * The privacy charge a node must carry for the rounds of test/e2e/site-rounds.e2e-spec.ts, from
 * first principles and the independent PLD oracle of test/privacy, never from the node's own
 * accounting code (planRelease, PrivacyLedger), so the e2e check is not circular.
 */
import { type EpsilonBracket, epsilonBracket, type ShiftPattern } from '../../privacy/exact-curve';

/** Queries per round and noise multiplier of the federations of site-rounds.e2e-spec.ts. */
export const QUERIES = 10;
export const Z = 1.5;

/**
 * The epsilon each node must be charged, derived here without the node's code (no planRelease,
 * no PrivacyLedger): sensitivity and noise from first principles, the exact curve from the
 * independent PLD oracle of test/privacy (which imports nothing from libs/dp).
 *
 * Sensitivity: the federations release vote summaries (`privacy.summary: votes`), where the
 * neighbouring pair is exact: replacing one record changes one teacher (disjoint partitions,
 * PATE, arXiv:1610.05755, §2.1), which can move each of its q one-hot votes to another class:
 * 2q counts move by one (Δ2 = √(2q)). An evaluation round releases, per class, correct
 * predictions and records: a replaced record moves one of each out of its class and into
 * another, 4 counts by one (Δ2 = 2).
 * Noise: the federation's aggregate variance is V = (z·Δ2)²; each site adds a Skellam share of
 * variance V/(n − T − C), C = 'all' meaning n − T − 1 (docs/privacy.md, "Collusion"), i.e.
 * Sk(V/(2(n − T − C))), Sk(μ) having variance 2μ. The nodes keep node.yaml's default
 * `privacy.trust: paranoid`: each counts its own share only, so the released mechanism a node
 * must be charged for is that one share, whatever the others add (Agarwal, Kairouz, Liu 2021,
 * arXiv:2110.04995, §3).
 */
export const DELTA = 1e-5;
export const VOTES: ShiftPattern = { shift: 1, coordinates: 2 * QUERIES };
export const EVALUATION: ShiftPattern = { shift: 1, coordinates: 4 };
/** Aggregate variance of a summary and of an evaluation: (z·Δ2)². */
export const V_VOTES = Z ** 2 * 2 * QUERIES;
export const V_EVALUATION = (Z * 2) ** 2;
/**
 * How far above the exact ε the RDP accountant may charge. docs/privacy.md measures +6–10% for
 * the Skellam with much noise per coordinate and +85–93% at μ = 1; at the μ of 4.5–22.5 used
 * here: +11% (votes, one round, μ 22.5), +11% (two rounds), +15% (votes, μ 7.5) and +24%
 * (evaluation, μ 4.5), measured 2026-12-02. Looser than 1.35 would mean the accountant changed.
 */
export const GAP = 1.35;

/** The exact ε of `rounds` rounds of `pattern` under the one Skellam share Sk(μ) a paranoid site counts. */
export function exact(mu: number, pattern: ShiftPattern, rounds: number): EpsilonBracket {
  return epsilonBracket({ kind: 'skellam', mu }, pattern, { delta: DELTA, rounds });
}

/** A node's charge is sound (never below the exact upper end) and close (within GAP of the lower end). */
export function expectSoundAndClose(charged: number, bracket: EpsilonBracket): void {
  expect(charged).toBeGreaterThanOrEqual(bracket.upper);
  expect(charged).toBeLessThanOrEqual(GAP * bracket.lower);
}
