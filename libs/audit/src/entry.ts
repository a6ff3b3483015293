import { hash } from 'node:crypto';

/**
 * One entry of a hash-chained, signed audit log (SPEC, privacy model item 5). Every field is a
 * string in its canonical form, so that what is hashed is exactly what is stored and exported:
 * an independent verifier never has to re-format a number. The byte layout is documented in
 * docs/audit-log.md.
 */
export interface AuditEntry {
  /** Format version: "1". */
  readonly v: string;
  /** Sequence number, decimal, from 1 without gaps. */
  readonly seq: string;
  /** When the entry was written: RFC 3339 UTC with milliseconds. */
  readonly time: string;
  /** Who keeps and signs the log: a site name, or "coordinator". */
  readonly actor: string;
  /** What happened: see AUDIT_EVENTS. */
  readonly event: string;
  readonly federation: string;
  /** Round number, decimal, or "". */
  readonly round: string;
  /** Message kind, e.g. "Rounds/SubmitMaskedSummary", or "". */
  readonly kind: string;
  /** The other party: "coordinator", a site name, or "". */
  readonly peer: string;
  /** Size in bytes of the message sent or received, decimal, or "". */
  readonly bytes: string;
  /** SHA-256 of the exact message bytes, hex, or "". */
  readonly sha256: string;
  /** Privacy cost (epsilon) of this entry, decimal, or "". */
  readonly epsilon: string;
  /** Cumulative epsilon after this entry, or "". */
  readonly epsilonTotal: string;
  /** The actor's epsilon limit at the time, or "". */
  readonly epsilonLimit: string;
  /** Free text or JSON with the rest (a refusal's reason, an anchored head...). */
  readonly detail: string;
  /** Hash of the previous entry, hex; 64 zeros for the first. */
  readonly prev: string;
  /** SHA-256 of this entry's canonical bytes, hex. */
  readonly hash: string;
  /** Ed25519 signature by the actor over "fedistill-log-entry-v1\n" followed by the 32 hash bytes, base64. */
  readonly signature: string;
}

/** The values of `event`, and what each records. */
export const AUDIT_EVENTS = {
  genesis: "the log was created; detail holds the signer's Ed25519 public key (hex)",
  egress: 'a message left the actor (written before the bytes are sent)',
  refusal: 'the actor refused to do something (budget, bad round, revoked...)',
  received: 'the actor accepted a message',
  rejected: 'the actor rejected a message from an authenticated party, with the reason',
  anchor: "the other party's signed log head was recorded (detail: the head as JSON)",
  enrolment: 'a site was enrolled',
  revocation: 'a site was revoked',
  admin: 'an operator action',
  round: 'a round changed stage, closed or was abandoned',
} as const;

/** The fields an appender supplies; the chain fills in v, seq, time, actor, prev, hash, signature. */
export type AuditEntryInput = Partial<
  Pick<
    AuditEntry,
    | 'federation'
    | 'round'
    | 'kind'
    | 'peer'
    | 'bytes'
    | 'sha256'
    | 'epsilon'
    | 'epsilonTotal'
    | 'epsilonLimit'
    | 'detail'
  >
> & { readonly event: keyof typeof AUDIT_EVENTS };

/** The hashed fields, in hashing order, with their names as hashed. */
export const HASHED_FIELDS: ReadonlyArray<readonly [keyof Omit<AuditEntry, 'hash' | 'signature'>, string]> = [
  ['v', 'v'],
  ['seq', 'seq'],
  ['time', 'time'],
  ['actor', 'actor'],
  ['event', 'event'],
  ['federation', 'federation'],
  ['round', 'round'],
  ['kind', 'kind'],
  ['peer', 'peer'],
  ['bytes', 'bytes'],
  ['sha256', 'sha256'],
  ['epsilon', 'epsilon'],
  ['epsilonTotal', 'epsilon_total'],
  ['epsilonLimit', 'epsilon_limit'],
  ['detail', 'detail'],
  ['prev', 'prev'],
];

export const GENESIS_PREV = '0'.repeat(64);
const HASH_DOMAIN_TEXT = 'fedistill-log-v1\n';
const HASH_DOMAIN = Buffer.from(HASH_DOMAIN_TEXT, 'utf8');
const SIGNATURE_DOMAIN = Buffer.from('fedistill-log-entry-v1\n', 'utf8');

/**
 * The canonical bytes of an entry: "fedistill-log-v1\n", then for each hashed field in order
 * `<name>:<UTF-8 byte length of value>:<value>\n`. Length-prefixing makes the encoding
 * unambiguous whatever the values contain (newlines, colons).
 */
export function canonicalEntryBytes(entry: Omit<AuditEntry, 'hash' | 'signature'>): Buffer {
  const parts: Buffer[] = [HASH_DOMAIN];
  for (const [key, name] of HASHED_FIELDS) {
    const value = Buffer.from(entry[key], 'utf8');
    parts.push(Buffer.from(`${name}:${value.length}:`, 'utf8'), value, Buffer.from('\n', 'utf8'));
  }
  return Buffer.concat(parts);
}

/**
 * SHA-256 of the canonical bytes, hex. Builds the same bytes as canonicalEntryBytes as one string
 * (UTF-8 encoded once by the hash) instead of 48 small Buffers: verifying a 100 000-entry log
 * spends most of its time here, and this is about four times faster (bench/audit-verify.ts).
 * A spec checks both give the same hash, non-ASCII and lone surrogates included.
 */
export function entryHash(entry: Omit<AuditEntry, 'hash' | 'signature'>): string {
  let text = HASH_DOMAIN_TEXT;
  for (const [key, name] of HASHED_FIELDS) {
    const value = entry[key];
    text += `${name}:${Buffer.byteLength(value, 'utf8')}:${value}\n`;
  }
  return hash('sha256', text, 'hex');
}

/** The bytes an entry's signature covers. */
export function entrySignatureBytes(hashHex: string): Buffer {
  return Buffer.concat([SIGNATURE_DOMAIN, Buffer.from(hashHex, 'hex')]);
}
