import { isDeepStrictEqual } from 'node:util';
import {
  AuditChain,
  type AuditEntry,
  AuditFormatError,
  fromJsonLines,
  MemoryAuditLogStore,
  toJsonLines,
  verifyAuditLog,
} from '@fedistill/audit';
import { mutateDocument } from '../support/documents';
import { fixedKeys } from '../support/fixed';
import { fuzzBytes } from '../support/mutators';
import type { Rng } from '../support/rng';
import { describeError, type FuzzSurface } from '../support/surface';

/**
 * An audit-log import (`fedistill audit verify --file`, an auditor's copy): JSON Lines text read
 * by fromJsonLines, then verifyAuditLog. A damaged line must be refused naming its line; a
 * damaged entry must fail verification naming the entry and field. A log that verifies must be
 * the signed log itself, or a prefix of it (a log alone cannot show that it was cut short).
 */

interface Seed {
  readonly entries: readonly AuditEntry[];
  readonly text: string;
  readonly publicKey: string;
}

let seed: Seed | undefined;

async function makeSeed(): Promise<Seed> {
  const keys = fixedKeys(7);
  const store = new MemoryAuditLogStore();
  let t = Date.parse('2026-11-27T10:00:00Z');
  const chain = new AuditChain(store, 'site-a', keys, () => (t += 1000));
  await chain.append({ event: 'egress', kind: 'NodeSession/Heartbeat', peer: 'coordinator', bytes: '7' });
  await chain.append({ event: 'round', federation: 'fed', round: '1', epsilon: '0.5', epsilonTotal: '0.5' });
  await chain.append({ event: 'admin', detail: JSON.stringify({ note: 'a "quoted" value', n: 3 }) });
  await chain.append({
    event: 'egress',
    kind: 'Rounds/SubmitMaskedSummary',
    peer: 'coordinator',
    bytes: '4096',
  });
  const entries = store.entries.map((e) => ({ ...e }));
  return {
    entries,
    text: toJsonLines(entries),
    publicKey: Buffer.from(keys.signingPublicKey).toString('hex'),
  };
}

/** The valid log every case starts from, as JSON Lines. */
export async function auditSeedText(): Promise<string> {
  seed ??= await makeSeed();
  return seed.text;
}

function seedOf(): Seed {
  if (!seed) throw new Error('the audit-log surface needs prepare() first');
  return seed;
}

interface AuditCase {
  readonly text: string;
  readonly every: boolean;
  readonly pinKey: boolean;
}

/** Line-level damage: an entry's object mutated, lines dropped, repeated or swapped. */
function mutateLines(rng: Rng, s: Seed): string {
  const lines = s.text.trimEnd().split('\n');
  const i = rng.below(lines.length);
  const roll = rng.below(4);
  if (roll === 0) lines[i] = JSON.stringify(mutateDocument(rng, JSON.parse(lines[i]!)));
  else if (roll === 1) lines.splice(i, 1);
  else if (roll === 2) lines.splice(i, 0, lines[rng.below(lines.length)]!);
  else {
    const j = rng.below(lines.length);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return `${lines.join('\n')}\n`;
}

/** A log that verified was refused: verifyAuditLog's first problem. */
export class AuditProblemFound extends Error {}

export const auditLogSurface: FuzzSurface<AuditCase, AuditEntry[]> = {
  name: 'audit-log import',
  prepare: async () => {
    seed ??= await makeSeed();
  },
  generate: (rng) => {
    const s = seedOf();
    const text = rng.chance(0.5)
      ? Buffer.from(fuzzBytes(rng, [Buffer.from(s.text)])).toString('utf8')
      : mutateLines(rng, s);
    return { text, every: rng.chance(0.3), pinKey: rng.chance(0.5) };
  },
  feed: (c) => {
    const entries = fromJsonLines(c.text, 'log.jsonl');
    const v = verifyAuditLog(entries, {
      signatures: c.every ? 'every' : 'head',
      ...(c.pinKey ? { expectedPublicKey: seedOf().publicKey } : {}),
    });
    if (!v.ok) {
      const p = v.problem;
      throw new AuditProblemFound(p ? `entry ${p.position} (seq ${p.seq}) ${p.field}: ${p.reason}` : '');
    }
    return entries;
  },
  validate: (entries, c) => {
    const original = seedOf().entries.slice(0, entries.length);
    // The default check signs off the content through the head's signature; the signature
    // fields of earlier entries are not hashed and only --full checks them (docs/audit-log.md,
    // "What --full adds"), so there they may differ.
    const content = (e: readonly AuditEntry[]) =>
      c.every ? e : e.map((x, i) => (i === e.length - 1 ? x : { ...x, signature: '' }));
    return entries.length >= 1 && isDeepStrictEqual(content(entries), content(original))
      ? undefined
      : 'a changed log verified';
  },
  refusal: (err) => {
    if (err instanceof AuditFormatError)
      return /^log\.jsonl:\d+: \S/.test(err.message) ? undefined : `names no line: '${err.message}'`;
    if (err instanceof AuditProblemFound)
      return /^entry \d+ \(seq [^)]*\) \w+: \S/.test(err.message)
        ? undefined
        : `names no entry: '${err.message}'`;
    return `threw ${describeError(err)}`;
  },
  show: (c) => JSON.stringify({ ...c, text: c.text.slice(0, 800) }),
};
