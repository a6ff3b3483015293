import { federationEpsilon, type RoundPlan } from '@fedistill/protocol';
import { decodeState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import type { Decline, RoundSnapshot } from '../rounds/live-round';

/** Epsilon after one round, for the dashboard's privacy plot. */
export interface PrivacyPoint {
  readonly round: number;
  readonly status: RoundRecord['status'];
  /** The federation's ε over its completed rounds up to this one (what privacy.epsilonCap bounds). */
  readonly federation: number;
  /** Each member site's ε over the rounds whose masked input it sent, up to this one. */
  readonly sites: Readonly<Record<string, number>>;
}

/** What the privacy page of the dashboard plots for one federation. */
export interface PrivacyBySite {
  readonly federationId: string;
  readonly delta: number;
  /** The federation's own cap (privacy.epsilonCap), or null without one. */
  readonly epsilonCap: number | null;
  readonly points: readonly PrivacyPoint[];
  /**
   * Each site's own ε limit where the site reported it (a site tells its limit only when it
   * declines a round); null where it has not.
   */
  readonly siteLimits: Readonly<Record<string, number | null>>;
}

/** A site's decline detail ends with "(spent S, limit L, this round R)" (rounds-service.ts). */
const LIMIT = /\(spent [^,]*, limit ([0-9.eE+-]+), this round [^)]*\)$/;

function reportedLimit(decline: Decline): number | undefined {
  const value = Number(LIMIT.exec(decline.detail)?.[1]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Epsilon spent over rounds, as the coordinator can compute it from the announced plans: the
 * federation's ε composes its completed rounds (as the cap check does, epsilon-cap.ts); a
 * site's composes every round whose masked input it sent (its release left the site then, even
 * if the round was later abandoned). Both use the one composition, federationEpsilon (RDP,
 * Mironov 2017, arXiv:1702.07476). A site's own ledger stays authoritative: its trust setting
 * may let it count less noise than the plan announced, so it may charge more.
 */
export function privacyBySite(
  federation: { id: string; members: readonly string[]; privacy: { delta: number; epsilonCap?: number } },
  records: readonly RoundRecord[],
): PrivacyBySite {
  const delta = federation.privacy.delta;
  const completed: RoundPlan[] = [];
  const sent = new Map<string, RoundPlan[]>(federation.members.map((m) => [m, []]));
  const limits: Record<string, number | null> = Object.fromEntries(federation.members.map((m) => [m, null]));
  const points: PrivacyPoint[] = [];
  for (const record of [...records].sort((a, b) => a.round - b.round)) {
    const s = decodeState<RoundSnapshot>(record.engine);
    const name = (id: number) => s.plan.participants.find((p) => p.siteId === id)?.siteName;
    for (const id of s.coordinator.inputs) {
      const site = name(id);
      if (site === undefined) continue;
      const plans = sent.get(site) ?? [];
      plans.push(s.plan);
      sent.set(site, plans);
    }
    for (const d of s.declines ?? []) {
      const limit = reportedLimit(d);
      if (limit !== undefined) limits[d.site] = limit;
    }
    if (record.status === 'completed') completed.push(s.plan);
    points.push({
      round: record.round,
      status: record.status,
      federation: federationEpsilon(completed, delta).epsilon,
      sites: Object.fromEntries(
        [...sent].map(([site, plans]) => [site, federationEpsilon(plans, delta).epsilon]),
      ),
    });
  }
  return {
    federationId: federation.id,
    delta,
    epsilonCap: federation.privacy.epsilonCap ?? null,
    points,
    siteLimits: limits,
  };
}
