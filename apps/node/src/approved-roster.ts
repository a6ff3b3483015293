import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file';

/** The file (in the node directory, mode 0600) that holds the rosters this site's operator approved. */
export const APPROVALS_FILE = 'approved-rosters.json';

/** The approvals file cannot be read; the message names the file and the problem. */
export class RosterFileError extends Error {
  override readonly name = 'RosterFileError';
}

/** One member of a federation: its site name and the Ed25519 identity key it enrolled with (hex). */
export interface RosterMember {
  readonly site: string;
  readonly signingPublicKey: string;
}

/** A federation's roster as this site's operator approved it. */
export interface ApprovedRoster {
  readonly federation: string;
  /** rosterFingerprint() of the members, as shown to the operator. */
  readonly fingerprint: string;
  readonly approvedAt: string;
  /** Ordered by site name. */
  readonly members: readonly RosterMember[];
}

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
const fileSchema = z
  .object({
    version: z.literal(1),
    federations: z.record(
      z.string().min(1).max(64),
      z
        .object({
          federation: z.string().min(1).max(64),
          fingerprint: z.string().min(1),
          approvedAt: z.string().min(1),
          members: z
            .array(z.object({ site: z.string().min(1).max(63), signingPublicKey: hex(32) }).strict())
            .min(1)
            .max(1000),
        })
        .strict(),
    ),
  })
  .strict();

/**
 * A 32-byte digest as 16 groups of 4 hex digits, like an SSH host-key fingerprint: short enough
 * to read aloud over the phone, and every bit of it is compared.
 */
export function groupedHex(digest: Uint8Array): string {
  return Buffer.from(digest).toString('hex').match(/.{4}/g)?.join(' ') ?? '';
}

/** Lower-case hex digits of a fingerprint as typed (spaces, colons and dashes ignored). */
export function normalizeFingerprint(text: string): string {
  return text.toLowerCase().replace(/[\s:-]/g, '');
}

/** SHA-256 of an Ed25519 identity key (32 raw bytes), grouped: what a site reads out to its peers. */
export function keyFingerprint(signingPublicKey: Uint8Array | string): string {
  const key = typeof signingPublicKey === 'string' ? Buffer.from(signingPublicKey, 'hex') : signingPublicKey;
  if (key.length !== 32) throw new RangeError("'signingPublicKey' must be 32 bytes");
  return groupedHex(createHash('sha256').update(key).digest());
}

/**
 * The fingerprint of a whole roster: SHA-256 over "fedistill/roster/v1", the federation id and
 * each member's "name key-hex" line, sorted by name. Two sites that compute the same value agree
 * on every member and every key (like a Signal safety number, for a group).
 */
export function rosterFingerprint(federation: string, members: readonly RosterMember[]): string {
  const lines = [...members]
    .sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : 0))
    .map((m) => `${m.site} ${m.signingPublicKey.toLowerCase()}\n`);
  const text = `fedistill/roster/v1\n${federation}\n${lines.join('')}`;
  return groupedHex(createHash('sha256').update(text).digest());
}

/** What changed between an approved roster and a proposed one. */
export interface RosterChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Members whose identity key differs from the approved one. */
  readonly rekeyed: readonly string[];
}

export function rosterChanges(
  before: readonly RosterMember[],
  after: readonly RosterMember[],
): RosterChanges {
  const old = new Map(before.map((m) => [m.site, m.signingPublicKey]));
  const now = new Map(after.map((m) => [m.site, m.signingPublicKey]));
  return {
    added: [...now.keys()].filter((s) => !old.has(s)),
    removed: [...old.keys()].filter((s) => !now.has(s)),
    rekeyed: [...now.entries()].filter(([s, k]) => old.has(s) && old.get(s) !== k).map(([s]) => s),
  };
}

/** Every roster approved in node directory `dir` (empty when none was ever approved). */
export function readApprovedRosters(dir: string): Map<string, ApprovedRoster> {
  const file = path.join(dir, APPROVALS_FILE);
  if (!fs.existsSync(file)) return new Map();
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RosterFileError(
      `${file} is not valid JSON (${(err as Error).message}); approve the federations again`,
    );
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problem = parsed.error.issues[0];
    throw new RosterFileError(
      `${file} is damaged: ${problem?.path.join('.') || '(top level)'}: ${problem?.message ?? 'invalid'}; approve the federations again`,
    );
  }
  const out = new Map<string, ApprovedRoster>();
  for (const [id, r] of Object.entries(parsed.data.federations)) {
    if (r.federation !== id || r.fingerprint !== rosterFingerprint(id, r.members))
      throw new RosterFileError(
        `${file} is damaged: the roster of '${id}' does not match its fingerprint; approve it again`,
      );
    out.set(id, r);
  }
  return out;
}

/** Records `roster` as approved (replacing any earlier approval of its federation), atomically. */
export function saveApprovedRoster(dir: string, roster: ApprovedRoster): void {
  const all = readApprovedRosters(dir);
  all.set(roster.federation, roster);
  const federations = Object.fromEntries([...all.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileAtomic(
    path.join(dir, APPROVALS_FILE),
    `${JSON.stringify({ version: 1, federations }, null, 2)}\n`,
  );
}
