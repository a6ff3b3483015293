import { ed25519Verify } from '@fedistill/identity';
import { type AuditEntry, entryHash, entrySignatureBytes, GENESIS_PREV } from './entry';
import { parseAnchorDetail, verifyLogHead } from './log-head';

/** The first thing wrong with a log: where, which field, and why. */
export interface AuditProblem {
  /** The log it was found in (its actor). */
  readonly log: string;
  /** 1-based position of the entry in the log as stored. */
  readonly position: number;
  /** The entry's seq field as stored. */
  readonly seq: string;
  readonly field: string;
  readonly reason: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly actor: string;
  /** The signer's Ed25519 public key (hex) from the genesis entry. */
  readonly publicKey: string;
  readonly entries: number;
  readonly head: { readonly seq: number; readonly hash: string } | undefined;
  readonly problem?: AuditProblem;
}

function genesisKey(entry: AuditEntry): string | undefined {
  if (entry.event !== 'genesis') return undefined;
  try {
    const key = (JSON.parse(entry.detail) as { publicKey?: unknown }).publicKey;
    return typeof key === 'string' && /^[0-9a-f]{64}$/.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

function checkEntry(
  e: AuditEntry,
  position: number,
  prev: AuditEntry | undefined,
  actor: string,
  key: Uint8Array,
): [string, string] | undefined {
  if (e.v !== '1') return ['v', `unknown format version '${e.v}'`];
  if (e.seq !== String(position)) {
    return Number(e.seq) > position
      ? ['seq', `expected seq ${position}, found ${e.seq}: an entry before it was deleted`]
      : ['seq', `expected seq ${position}, found ${e.seq}: an entry was inserted, duplicated or moved`];
  }
  if (e.actor !== actor) return ['actor', `actor '${e.actor}' differs from the log's actor '${actor}'`];
  if (e.prev !== (prev?.hash ?? GENESIS_PREV)) {
    return [
      'prev',
      `does not match the hash of the entry before it: the chain is broken (entries inserted, deleted or altered)`,
    ];
  }
  if (entryHash(e) !== e.hash)
    return ['hash', "the entry's content does not match its hash: a field of this entry was altered"];
  if (!ed25519Verify(key, entrySignatureBytes(e.hash), Buffer.from(e.signature, 'base64'))) {
    return [
      'signature',
      "the signature does not verify with the log's public key: the entry was re-hashed or forged",
    ];
  }
  if (Number.isNaN(Date.parse(e.time))) return ['time', `'${e.time}' is not a time`];
  return undefined;
}

/**
 * Verifies a log as stored: the genesis entry and its key (pinned by `expectedPublicKey` when
 * given), then for every entry its position, chain link, hash and signature. Stops at the first
 * problem and names it.
 */
export function verifyAuditLog(
  entries: readonly AuditEntry[],
  expectedPublicKey?: string,
): AuditVerification {
  const first = entries[0];
  const actor = first?.actor ?? '';
  const fail = (
    position: number,
    e: AuditEntry | undefined,
    field: string,
    reason: string,
    publicKey = '',
  ): AuditVerification => ({
    ok: false,
    actor,
    publicKey,
    entries: entries.length,
    head: undefined,
    problem: { log: actor, position, seq: e?.seq ?? '', field, reason },
  });
  if (!first) return fail(0, undefined, 'seq', 'the log is empty: even a new log has its genesis entry');
  const publicKey = genesisKey(first);
  if (!publicKey)
    return fail(1, first, 'event', 'the first entry is not a genesis entry with the public key');
  if (expectedPublicKey && expectedPublicKey.toLowerCase() !== publicKey) {
    return fail(
      1,
      first,
      'detail',
      `the log's public key ${publicKey} is not the expected ${expectedPublicKey}`,
      publicKey,
    );
  }
  const key = Buffer.from(publicKey, 'hex');
  for (let i = 0; i < entries.length; i += 1) {
    const e = entries[i] as AuditEntry;
    const bad = checkEntry(e, i + 1, entries[i - 1], actor, key);
    if (bad) return fail(i + 1, e, bad[0], bad[1], publicKey);
  }
  const last = entries[entries.length - 1] as AuditEntry;
  return {
    ok: true,
    actor,
    publicKey,
    entries: entries.length,
    head: { seq: Number(last.seq), hash: last.hash },
  };
}

/** A verified log, ready for cross-checking its anchors against other logs. */
export interface VerifiedLog {
  readonly verification: AuditVerification;
  readonly entries: readonly AuditEntry[];
}

/**
 * Mutual anchoring: every anchor entry in one log records the other party's signed head. For
 * each log pair given, checks the head's signature with the other log's key and that the other
 * log still holds that hash at that sequence, so a rewrite of either log is detected.
 */
export function crossCheckAnchors(logs: readonly VerifiedLog[]): AuditProblem[] {
  const byActor = new Map(logs.map((l) => [l.verification.actor, l]));
  const problems: AuditProblem[] = [];
  for (const holder of logs) {
    for (const [i, e] of holder.entries.entries()) {
      if (e.event !== 'anchor') continue;
      const head = parseAnchorDetail(e.detail);
      const at = { log: holder.verification.actor, position: i + 1, seq: e.seq };
      if (!head) {
        problems.push({ ...at, field: 'detail', reason: 'anchor entry does not hold a signed head' });
        continue;
      }
      const other = byActor.get(head.signer);
      if (!other) continue;
      if (!verifyLogHead(head, Buffer.from(other.verification.publicKey, 'hex'))) {
        problems.push({
          ...at,
          field: 'detail',
          reason: `the anchored head is not signed by ${head.signer}'s key`,
        });
        continue;
      }
      const anchored = other.entries[head.sequence - 1];
      if (!anchored || anchored.hash !== head.entrySha256) {
        problems.push({
          log: head.signer,
          position: head.sequence,
          seq: String(head.sequence),
          field: anchored ? 'hash' : 'seq',
          reason: anchored
            ? `differs from the head ${holder.verification.actor} anchored in its entry ${e.seq}: ${head.signer}'s log was rewritten`
            : `${holder.verification.actor} anchored ${head.signer}'s entry ${head.sequence} (its entry ${e.seq}), which is missing: the log was truncated`,
        });
      }
    }
  }
  return problems;
}
