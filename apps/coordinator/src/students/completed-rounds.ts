import type { RoundRecord } from '@fedistill/store';
import { decodeSigned, decodeState } from '@fedistill/secagg';
import type { RoundSnapshot } from '../rounds/live-round';
import type { DistillRoundPlan } from '@fedistill/protocol';

/** A completed round as the student publisher needs it: its plan and its unmasked sum. */
export interface CompletedRound {
  readonly round: number;
  readonly plan: DistillRoundPlan;
  /** The decoded (signed) sum of the surviving sites' releases, [queries x classes]. */
  readonly sum: Int32Array;
  /** How many sites' inputs the sum holds. */
  readonly sites: number;
}

/** The completed distillation rounds among `records`, oldest first (open, abandoned and evaluation rounds are skipped). */
export function completedRounds(records: readonly RoundRecord[]): CompletedRound[] {
  const out: CompletedRound[] = [];
  for (const r of [...records].sort((a, b) => a.round - b.round)) {
    if (r.status !== 'completed') continue;
    const s = decodeState<RoundSnapshot>(r.engine);
    const result = s.coordinator.result;
    // Evaluation rounds measure a student; they hold no distillation targets.
    if (!result || s.plan.kind === 'evaluation') continue;
    out.push({
      round: r.round,
      plan: s.plan,
      sum: decodeSigned(result, s.plan.config.bits ?? 32),
      sites: s.coordinator.inputs.length,
    });
  }
  return out;
}
