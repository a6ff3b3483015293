import { assumptionText } from '@fedistill/distill';
import { federationEpsilon } from '@fedistill/protocol';
import type { CompletedRound } from './completed-rounds';

/** The privacy statement of a student (federation level: each site's own ledger may differ). */
export interface PrivacySpent {
  /** The announced noise mechanism of the included rounds, or 'none' when any ran without noise. */
  readonly mechanism: 'skellam' | 'discrete-gaussian' | 'none';
  /** ε at `delta` of the included rounds composed, or null without privacy (unbounded). */
  readonly epsilon: number | null;
  readonly delta: number;
  /** The Rényi order that gave ε (null without privacy). */
  readonly order: number | null;
  readonly unit: 'one record at one site';
  /**
   * The trust assumption ε holds under, e.g. "assuming at most 2 of 10 participants collude with
   * the coordinator and at most 1 drops out" (one phrase per distinct round plan, joined by "; "),
   * or null without privacy.
   */
  readonly assumption: string | null;
}

/**
 * Composes the release of every included round in the RDP accountant (one release per round, as
 * the node's ledger and the simulator charge it) and converts to (ε, δ) (Mironov 2017,
 * arXiv:1702.07476; conversion of Canonne, Kamath, Steinke 2020, arXiv:2004.00010, Prop. 12).
 * A round without noise makes the whole statement 'none': no finite ε holds.
 */
export function privacySpent(rounds: readonly CompletedRound[], delta: number): PrivacySpent {
  let kind: PrivacySpent['mechanism'] | undefined;
  const assumptions = new Set<string>();
  for (const r of rounds) {
    const noise = r.plan.release.noise;
    if (!noise) {
      kind = 'none';
      continue;
    }
    if (kind !== 'none') kind = noise.kind;
    // Rounds planned before assumedColluders existed trusted every survivor (C = 0).
    assumptions.add(assumptionText(noise));
  }
  const unit = 'one record at one site' as const;
  if (kind === undefined || kind === 'none')
    return { mechanism: 'none', epsilon: null, delta, order: null, unit, assumption: null };
  // The one composition of a federation's epsilon (libs/protocol federation-epsilon.ts).
  const { epsilon, order } = federationEpsilon(
    rounds.map((r) => r.plan),
    delta,
  );
  return { mechanism: kind, epsilon, delta, order, unit, assumption: [...assumptions].join('; ') };
}
