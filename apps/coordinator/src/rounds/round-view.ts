import type { RoundRecord } from '@fedistill/registry';
import { decodeState } from '@fedistill/secagg';
import { LiveRound, type RoundSnapshot } from './live-round';

/** A round as the operator sees it (admin API, `fedistill coordinator round status`). */
export interface RoundView {
  readonly federationId: string;
  readonly round: number;
  readonly status: RoundRecord['status'];
  readonly stage: string;
  readonly participants: readonly string[];
  readonly queries: number;
  readonly deadlines: Readonly<Record<string, string>>;
  /** Sites whose keys, shares and masked inputs arrived, by name. */
  readonly keysFrom: readonly string[];
  readonly sharesFrom: readonly string[];
  readonly inputsFrom: readonly string[];
  readonly declines: RoundSnapshot['declines'];
  /** Why the round was abandoned. */
  readonly reason: string | null;
}

export function viewOf(source: LiveRound | RoundRecord): RoundView {
  const s: Pick<RoundSnapshot, 'plan' | 'coordinator' | 'declines' | 'status' | 'reason'> =
    source instanceof LiveRound
      ? {
          plan: source.plan,
          coordinator: source.coordinator.state,
          declines: source.declines,
          status: source.status,
          reason: source.reason,
        }
      : decodeState<RoundSnapshot>(source.engine);
  const name = (id: number) => s.plan.participants.find((p) => p.siteId === id)?.siteName ?? String(id);
  return {
    federationId: s.plan.federationId,
    round: s.plan.round,
    status: s.status,
    stage: s.coordinator.stage,
    participants: s.plan.participants.map((p) => p.siteName),
    queries: s.plan.queries.length,
    deadlines: Object.fromEntries(
      Object.entries(s.plan.deadlines).map(([k, v]) => [k, new Date(v).toISOString()]),
    ),
    keysFrom: s.coordinator.adverts.map((a) => name(a.siteId)),
    sharesFrom: s.coordinator.sharers.map(name),
    inputsFrom: s.coordinator.inputs.map(name),
    declines: s.declines,
    reason: s.reason ?? s.coordinator.reason,
  };
}
