import { ed25519Verify } from '@fedistill/identity';
import { type AuditEntry, entryHash, entrySignatureBytes, GENESIS_PREV } from './entry';
import { parseAnchorDetail, type SignedHead, verifyLogHead } from './log-head';

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

/**
 * Which signatures a verification checks. 'head': the last entry's only; with every entry's hash
 * recomputed and every link checked, that one signature covers the content of every entry
 * before it (docs/audit-log.md, "What a check proves"). 'every': each entry's own signature too.
 */
export type SignatureCheck = 'head' | 'every';

export interface AuditVerifyOptions {
  /** The signer's Ed25519 public key (hex) known out of band: the genesis key must be this one. */
  readonly expectedPublicKey?: string;
  /** Default 'head'. A failing log is located the same way under both (the first bad entry). */
  readonly signatures?: SignatureCheck;
  /**
   * A signed head of this log held elsewhere (an anchor in the other party's log, a copy an
   * auditor kept): the log must still hold that entry with that hash, so a log cut short after
   * the head was signed, or rewritten before it, fails. A log alone cannot show either.
   */
  readonly expectedHead?: SignedHead;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly actor: string;
  /** The signer's Ed25519 public key (hex) from the genesis entry. */
  readonly publicKey: string;
  readonly entries: number;
  readonly head: { readonly seq: number; readonly hash: string } | undefined;
  /** Which signatures were checked. */
  readonly signatures: SignatureCheck;
  readonly problem?: AuditProblem;
}

type Check = readonly [field: string, reason: string];

function genesisKey(entry: AuditEntry): string | undefined {
  if (entry.event !== 'genesis') return undefined;
  try {
    const key = (JSON.parse(entry.detail) as { publicKey?: unknown }).publicKey;
    return typeof key === 'string' && /^[0-9a-f]{64}$/.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One entry's checks, in the order their failures are reported. `prevHash` is the previous
 * entry's hash, already recomputed from its content, so the links chain recomputed hashes. The
 * signature is checked only when `key` is given.
 */
function checkEntry(
  e: AuditEntry,
  position: number,
  prevHash: string,
  actor: string,
  key: Uint8Array | undefined,
): Check | undefined {
  if (e.v !== '1') return ['v', `unknown format version '${e.v}'`];
  if (e.seq !== String(position)) {
    return Number(e.seq) > position
      ? ['seq', `expected seq ${position}, found ${e.seq}: an entry before it was deleted`]
      : ['seq', `expected seq ${position}, found ${e.seq}: an entry was inserted, duplicated or moved`];
  }
  if (e.actor !== actor) return ['actor', `actor '${e.actor}' differs from the log's actor '${actor}'`];
  if (e.prev !== prevHash) {
    return [
      'prev',
      `does not match the hash of the entry before it: the chain is broken (entries inserted, deleted or altered)`,
    ];
  }
  if (entryHash(e) !== e.hash)
    return ['hash', "the entry's content does not match its hash: a field of this entry was altered"];
  if (key && !verifiesCanonically(key, e)) {
    return [
      'signature',
      "the signature does not verify with the log's public key: the entry was re-hashed, re-signed with another key or forged",
    ];
  }
  if (Number.isNaN(Date.parse(e.time))) return ['time', `'${e.time}' is not a time`];
  return undefined;
}

/**
 * The entry's signature verifies, and its field is the canonical base64 of the signature:
 * Buffer.from skips characters outside the alphabet, so a damaged field (found by fuzzing,
 * test/fuzz) could otherwise still decode to the good signature and pass.
 */
function verifiesCanonically(key: Uint8Array, e: AuditEntry): boolean {
  const signature = Buffer.from(e.signature, 'base64');
  return (
    signature.toString('base64') === e.signature && ed25519Verify(key, entrySignatureBytes(e.hash), signature)
  );
}

/** The first entry that fails, in stored order: its 0-based index and what failed. */
function firstBadEntry(
  entries: readonly AuditEntry[],
  actor: string,
  key: Uint8Array,
  signatures: SignatureCheck,
): { readonly index: number; readonly check: Check } | undefined {
  let prevHash = GENESIS_PREV;
  const last = entries.length - 1;
  for (let i = 0; i <= last; i += 1) {
    const e = entries[i] as AuditEntry;
    const check = checkEntry(
      e,
      i + 1,
      prevHash,
      actor,
      signatures === 'every' || i === last ? key : undefined,
    );
    if (check) return { index: i, check };
    prevHash = e.hash;
  }
  return undefined;
}

/** Checks a log that verified by itself against a signed head of it held elsewhere. */
function checkExpectedHead(
  entries: readonly AuditEntry[],
  head: SignedHead,
  actor: string,
  key: Uint8Array,
): { readonly position: number; readonly check: Check } | undefined {
  if (!Number.isSafeInteger(head.sequence) || head.sequence < 1)
    throw new RangeError(`'expectedHead.sequence' must be a positive integer, got ${head.sequence}`);
  if (head.signer !== actor) {
    return {
      position: 1,
      check: ['actor', `the expected head is signed for '${head.signer}', but this is the log of '${actor}'`],
    };
  }
  if (!verifyLogHead(head, key)) {
    return {
      position: 1,
      check: [
        'detail',
        'the expected head does not verify with the genesis key: the log was re-created with another key, or the head is forged',
      ],
    };
  }
  const at = entries[head.sequence - 1];
  if (!at) {
    return {
      position: head.sequence,
      check: [
        'seq',
        `the log ends at entry ${entries.length}, but the expected head, signed at ${new Date(head.signedAtUnixMs).toISOString()}, covers entry ${head.sequence}: the log was truncated`,
      ],
    };
  }
  if (at.hash !== head.entrySha256) {
    return {
      position: head.sequence,
      check: ['hash', 'differs from the expected head for this entry: the log was rewritten here or before'],
    };
  }
  return undefined;
}

/**
 * Verifies a log as stored: the genesis entry and its key (pinned by `expectedPublicKey` when
 * given), then for every entry its position, chain link and recomputed hash, and the signature
 * of the head (of every entry with `signatures: 'every'`); then the expected head, if given.
 * When anything fails, every signature is checked up to the damage, so the first bad entry is
 * named whichever mode was asked for. A string is taken as `expectedPublicKey`.
 */
export function verifyAuditLog(
  entries: readonly AuditEntry[],
  options: AuditVerifyOptions | string = {},
): AuditVerification {
  const {
    expectedPublicKey,
    signatures = 'head',
    expectedHead,
  } = typeof options === 'string' ? { expectedPublicKey: options } : options;
  const first = entries[0];
  const actor = first?.actor ?? '';
  const fail = (position: number, field: string, reason: string, publicKey = ''): AuditVerification => ({
    ok: false,
    actor,
    publicKey,
    entries: entries.length,
    head: undefined,
    signatures,
    // An entry missing at the end (a truncation found by an expected head) is named by its seq.
    problem: {
      log: actor,
      position,
      seq: entries[position - 1]?.seq ?? (position ? String(position) : ''),
      field,
      reason,
    },
  });
  if (!first) return fail(0, 'seq', 'the log is empty: even a new log has its genesis entry');
  const publicKey = genesisKey(first);
  if (!publicKey) return fail(1, 'event', 'the first entry is not a genesis entry with the public key');
  if (expectedPublicKey && expectedPublicKey.toLowerCase() !== publicKey) {
    return fail(
      1,
      'detail',
      `the log's public key ${publicKey} is not the expected ${expectedPublicKey}`,
      publicKey,
    );
  }
  const key = Buffer.from(publicKey, 'hex');
  const found = firstBadEntry(entries, actor, key, signatures);
  // Locating: the first failure in stored order with every signature checked (an entry altered,
  // re-hashed and re-chained fails only the head's signature, but its own names it), so both
  // modes name the same entry. The checks above are a subset of these, so one is found.
  const bad = found && signatures === 'head' ? (firstBadEntry(entries, actor, key, 'every') ?? found) : found;
  if (bad) return fail(bad.index + 1, bad.check[0], bad.check[1], publicKey);
  const beyond = expectedHead && checkExpectedHead(entries, expectedHead, actor, key);
  if (beyond) return fail(beyond.position, beyond.check[0], beyond.check[1], publicKey);
  const last = entries[entries.length - 1] as AuditEntry;
  return {
    ok: true,
    actor,
    publicKey,
    entries: entries.length,
    head: { seq: Number(last.seq), hash: last.hash },
    signatures,
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
