import {
  type AuditEntry,
  type AuditProblem,
  parseAnchorDetail,
  verifyAuditLog,
  verifyLogHead,
} from '@fedistill/audit';

/** The anchors one site sent: its signed log heads the coordinator recorded in its transcript. */
export interface SiteAnchors {
  readonly site: string;
  readonly received: number;
  /** Heads whose signature verifies with the site's enrolled key. */
  readonly verified: number;
  /** The latest head recorded: the site's log position it covers, and when the site signed it. */
  readonly latest: {
    readonly sequence: number;
    readonly signedAt: string;
    readonly recordedAt: string;
  } | null;
}

/** The dashboard's audit page: is the coordinator's transcript intact, and which anchors arrived. */
export interface TranscriptStatus {
  readonly ok: boolean;
  readonly entries: number;
  readonly head: { readonly seq: number; readonly hash: string } | null;
  /** The coordinator's Ed25519 public key (hex) the transcript must be signed with. */
  readonly publicKey: string;
  readonly problem: AuditProblem | null;
  readonly anchors: readonly SiteAnchors[];
  readonly checkedAt: string;
}

/**
 * Verifies the coordinator's transcript against its own identity key (chain, hashes, the head's
 * signature: libs/audit verify.ts) and checks each recorded anchor's signature with the enrolled
 * key of the site that sent it. Sites without an enrolled key (unknown names) count as unverified.
 */
export function transcriptStatus(
  entries: readonly AuditEntry[],
  coordinatorKeyHex: string,
  siteKeys: ReadonlyMap<string, Uint8Array>,
  now: Date = new Date(),
): TranscriptStatus {
  const verification = verifyAuditLog(entries, { expectedPublicKey: coordinatorKeyHex });
  const bySite = new Map<string, { received: number; verified: number; latest: SiteAnchors['latest'] }>();
  for (const site of siteKeys.keys()) bySite.set(site, { received: 0, verified: 0, latest: null });
  for (const e of entries) {
    if (e.event !== 'anchor' || e.peer === '') continue;
    const tally = bySite.get(e.peer) ?? { received: 0, verified: 0, latest: null };
    tally.received += 1;
    const head = parseAnchorDetail(e.detail);
    const key = siteKeys.get(e.peer);
    if (head && key && head.signer === e.peer && verifyLogHead(head, key)) {
      tally.verified += 1;
      tally.latest = {
        sequence: head.sequence,
        signedAt: new Date(head.signedAtUnixMs).toISOString(),
        recordedAt: e.time,
      };
    }
    bySite.set(e.peer, tally);
  }
  return {
    ok: verification.ok,
    entries: verification.entries,
    head: verification.head ?? null,
    publicKey: coordinatorKeyHex,
    problem: verification.problem ?? null,
    anchors: [...bySite].map(([site, t]) => ({ site, ...t })).sort((a, b) => a.site.localeCompare(b.site)),
    checkedAt: now.toISOString(),
  };
}
