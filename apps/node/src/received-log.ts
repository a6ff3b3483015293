import type { AuditEntryInput } from '@fedistill/audit';
import { NoiseMechanism, type RoundAnnouncement, SummaryKind } from '@fedistill/wire';
import { keyFingerprint } from './approved-roster';

/** Where received records go: the node's signed, hash-chained audit log. */
export interface ReceivedRecorder {
  append(input: AuditEntryInput): Promise<unknown>;
}

/**
 * Records, as a 'received' entry of the site's audit log, something the coordinator told this
 * site that decides its privacy (who takes part, with which keys, the noise plan, the sharer,
 * survivor and dropped sets with their signatures), so an auditor can later show what the site
 * was told, signed by the site, against what the coordinator's own log says it sent.
 * `detail` is stored as JSON.
 */
export function recordReceived(
  audit: ReceivedRecorder,
  kind: string,
  where: { readonly federation?: string; readonly round?: number },
  detail: unknown,
): Promise<unknown> {
  return audit.append({
    event: 'received',
    kind,
    peer: 'coordinator',
    federation: where.federation,
    round: where.round === undefined ? undefined : String(where.round),
    detail: JSON.stringify(detail),
  });
}

const enumName = (e: Record<number, string>, v: number) => e[v] ?? String(v);

/** What a round announcement says that decides this site's privacy, for its audit log. */
export function announcementRecord(a: RoundAnnouncement): unknown {
  return {
    participants: a.participants.map((p) => ({
      site: p.siteName,
      id: p.siteId,
      key:
        p.signingPublicKey.length === 32
          ? keyFingerprint(p.signingPublicKey)
          : `(${p.signingPublicKey.length} bytes)`,
    })),
    secureAggregation: {
      threshold: a.threshold,
      neighbours: a.neighbours,
      minSurvivors: a.minSurvivors,
      modulusBits: a.modulusBits,
      maxInput: a.maxInput,
    },
    noise: {
      mechanism: enumName(NoiseMechanism as unknown as Record<number, string>, a.mechanism),
      aggregateStddev: a.aggregateNoiseStddev,
      siteStddev: a.siteNoiseStddev,
      delta: a.delta,
    },
    summary: enumName(SummaryKind as unknown as Record<number, string>, a.summaryKind),
    queries: a.queryIndices.length,
    classes: a.numClasses,
    clipNorm: a.clipNorm,
    quantizationScale: a.quantizationScale,
  };
}
