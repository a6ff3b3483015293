import { planRelease } from '@fedistill/distill';
import { RdpAccountant } from '@fedistill/dp';
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
}

/**
 * Composes the release of every included round in the RDP accountant (one release per round, as
 * the node's ledger and the simulator charge it) and converts to (ε, δ) (Mironov 2017,
 * arXiv:1702.07476; conversion of Canonne, Kamath, Steinke 2020, arXiv:2004.00010, Prop. 12).
 * A round without noise makes the whole statement 'none': no finite ε holds.
 */
export function privacySpent(rounds: readonly CompletedRound[], delta: number): PrivacySpent {
  const accountant = new RdpAccountant();
  let kind: PrivacySpent['mechanism'] | undefined;
  for (const r of rounds) {
    const mechanism = planRelease(r.plan.release).mechanism;
    const noise = r.plan.release.noise;
    if (!mechanism || !noise) {
      kind = 'none';
      continue;
    }
    if (kind !== 'none') kind = noise.kind;
    accountant.add(mechanism, 1);
  }
  const unit = 'one record at one site' as const;
  if (kind === undefined || kind === 'none')
    return { mechanism: 'none', epsilon: null, delta, order: null, unit };
  const { epsilon, order } = accountant.epsilon(delta);
  return { mechanism: kind, epsilon, delta, order, unit };
}
