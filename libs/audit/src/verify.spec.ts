import { createHash } from 'node:crypto';
import { ed25519Signer, generateSiteKeys, type SiteKeys } from '@fedistill/identity';
import { AuditChain } from './audit-chain';
import { type AuditEntry, canonicalEntryBytes, entryHash, entrySignatureBytes } from './entry';
import { signLogHead } from './log-head';
import { MemoryAuditLogStore } from './sqlite-store';
import { type SignatureCheck, verifyAuditLog } from './verify';

const N = 8;

/** A log of N entries (genesis + N - 1 egress entries) and the key that signed it. */
async function makeLog(keys: SiteKeys = generateSiteKeys(), actor = 'site-a') {
  const store = new MemoryAuditLogStore();
  let t = Date.parse('2026-11-27T10:00:00Z');
  const chain = new AuditChain(store, actor, keys, () => (t += 1000));
  for (let i = 1; i < N; i += 1) {
    await chain.append({
      event: 'egress',
      kind: 'NodeSession/Heartbeat',
      peer: 'coordinator',
      bytes: String(i),
    });
  }
  return { keys, entries: store.entries.map((e) => ({ ...e })) };
}

/**
 * What a forger does from entry `from` on: renumber, re-link and re-hash every entry (anyone can),
 * and re-sign it with `signWith` when given (only a key holder can sign with the real key).
 */
function rechain(entries: AuditEntry[], from: number, signWith?: Uint8Array): AuditEntry[] {
  const sign = signWith && ed25519Signer(signWith);
  const out = entries.slice(0, from - 1);
  for (const e of entries.slice(from - 1)) {
    const body = { ...e, seq: String(out.length + 1), prev: out.at(-1)?.hash ?? '0'.repeat(64) };
    const hash = entryHash(body);
    const signature = sign ? Buffer.from(sign(entrySignatureBytes(hash))).toString('base64') : e.signature;
    out.push({ ...body, hash, signature });
  }
  return out;
}

const edit = (entries: AuditEntry[], seq: number, change: Partial<AuditEntry>) =>
  entries.map((e) => (e.seq === String(seq) ? { ...e, ...change } : e));

describe.each<SignatureCheck>(['head', 'every'])('verifyAuditLog (signatures: %s)', (signatures) => {
  const verify = (entries: AuditEntry[], key?: string) =>
    verifyAuditLog(entries, { signatures, expectedPublicKey: key });

  it('accepts an intact log and says which signatures it checked', async () => {
    const { entries } = await makeLog();
    expect(verify(entries)).toMatchObject({ ok: true, entries: N, head: { seq: N }, signatures });
  });

  it('locates an edited entry by its hash', async () => {
    const { entries } = await makeLog();
    expect(verify(edit(entries, 4, { bytes: '999999' })).problem).toMatchObject({
      position: 4,
      seq: '4',
      field: 'hash',
    });
  });

  it('locates an edited, re-hashed entry by its signature, re-chained after it or not', async () => {
    const { entries } = await makeLog();
    const edited = edit(entries, 4, { peer: 'elsewhere' });
    const rehashed = edit(edited, 4, { hash: entryHash(edited[3]!) });
    expect(verify(rehashed).problem).toMatchObject({ position: 4, field: 'signature' });
    // Every link and hash after it made consistent again: only signatures can tell.
    expect(verify(rechain(edited, 4)).problem).toMatchObject({ position: 4, field: 'signature' });
  });

  it('locates an edited head entry and a replaced head signature', async () => {
    const { entries } = await makeLog();
    expect(verify(edit(entries, N, { bytes: '1' })).problem).toMatchObject({ position: N, field: 'hash' });
    const forged = Buffer.alloc(64, 7).toString('base64');
    expect(verify(edit(entries, N, { signature: forged })).problem).toMatchObject({
      position: N,
      field: 'signature',
    });
  });

  it('locates a deleted entry, renumbered or not', async () => {
    const { entries } = await makeLog();
    const without4 = entries.filter((e) => e.seq !== '4');
    expect(verify(without4).problem).toMatchObject({ position: 4, seq: '5', field: 'seq' });
    expect(verify(rechain(without4, 4)).problem).toMatchObject({ position: 4, seq: '4', field: 'signature' });
  });

  it('locates an inserted entry: a duplicate, and a new entry signed with another key', async () => {
    const { entries } = await makeLog();
    const dup = [...entries.slice(0, 4), { ...entries[3]! }, ...entries.slice(4)];
    expect(verify(dup).problem).toMatchObject({ position: 5, seq: '4', field: 'seq' });
    const intruder = generateSiteKeys().signingSecretKey;
    const inserted = [...entries.slice(0, 3), { ...entries[2]!, detail: 'forged' }, ...entries.slice(3)];
    const resigned = rechain(inserted, 4, intruder);
    expect(resigned).toHaveLength(N + 1);
    expect(verify(resigned).problem).toMatchObject({ position: 4, field: 'signature' });
  });

  it('locates reordered entries', async () => {
    const { entries } = await makeLog();
    const swapped = [...entries.slice(0, 3), entries[4]!, entries[3]!, ...entries.slice(5)];
    expect(verify(swapped).problem).toMatchObject({ position: 4, seq: '5', field: 'seq' });
    // Renumbered and re-linked so seq and prev agree: the moved entry's hash changed, so its
    // signature fails.
    expect(verify(rechain(swapped, 4)).problem).toMatchObject({ position: 4, field: 'signature' });
  });

  it('locates entries re-signed with another key after an edit', async () => {
    const { entries } = await makeLog();
    const intruder = generateSiteKeys().signingSecretKey;
    const sut = verify(rechain(edit(entries, 5, { bytes: '0' }), 5, intruder));
    expect(sut.problem).toMatchObject({ position: 5, seq: '5', field: 'signature' });
    expect(sut.problem?.reason).toMatch(/re-signed with another key/);
  });

  it('accepts a log re-created whole with another key only when no key is pinned', async () => {
    const { keys, entries } = await makeLog();
    const other = await makeLog();
    expect(verify(other.entries).ok).toBe(true);
    const pinned = verify(other.entries, Buffer.from(keys.signingPublicKey).toString('hex'));
    expect(pinned.problem).toMatchObject({ position: 1, field: 'detail' });
    expect(verify(entries, Buffer.from(keys.signingPublicKey).toString('hex')).ok).toBe(true);
  });

  it('cannot see a truncation alone; a signed head held elsewhere locates it', async () => {
    const { keys, entries } = await makeLog();
    const head = signLogHead('site-a', N, entries[N - 1]!.hash, keys.signingSecretKey, 1_790_000_000_000);
    const truncated = entries.slice(0, N - 3);
    // Every prefix of a log is a valid log: each entry was signed when it was appended.
    expect(verify(truncated).ok).toBe(true);
    const sut = verifyAuditLog(truncated, { signatures, expectedHead: head });
    expect(sut.problem).toMatchObject({ position: N, seq: String(N), field: 'seq' });
    expect(sut.problem?.reason).toMatch(/ends at entry 5.*covers entry 8: the log was truncated/);
    expect(verifyAuditLog(entries, { signatures, expectedHead: head }).ok).toBe(true);
  });
});

describe('verifyAuditLog with an expected head', () => {
  it('locates a log rebuilt by its own key holder, and refuses a head of another log or key', async () => {
    const { keys, entries } = await makeLog();
    const head = signLogHead('site-a', 6, entries[5]!.hash, keys.signingSecretKey);
    const rebuilt = rechain(edit(entries, 3, { bytes: '0' }), 3, keys.signingSecretKey);
    expect(verifyAuditLog(rebuilt).ok).toBe(true);
    expect(verifyAuditLog(rebuilt, { expectedHead: head }).problem).toMatchObject({
      position: 6,
      seq: '6',
      field: 'hash',
    });
    const otherSigner = signLogHead('site-b', 6, entries[5]!.hash, keys.signingSecretKey);
    expect(verifyAuditLog(entries, { expectedHead: otherSigner }).problem).toMatchObject({ field: 'actor' });
    const otherKey = signLogHead('site-a', 6, entries[5]!.hash, generateSiteKeys().signingSecretKey);
    expect(verifyAuditLog(entries, { expectedHead: otherKey }).problem).toMatchObject({
      position: 1,
      field: 'detail',
    });
  });

  it('refuses a head whose sequence is not a positive integer', async () => {
    const { keys, entries } = await makeLog();
    const head = signLogHead('site-a', 0, entries[0]!.hash, keys.signingSecretKey);
    expect(() => verifyAuditLog(entries, { expectedHead: head })).toThrow(
      "'expectedHead.sequence' must be a positive integer, got 0",
    );
  });
});

describe('what the default check leaves to --full', () => {
  it('does not read the signatures of entries before the head; every-signature mode does', async () => {
    const { entries } = await makeLog();
    const sut = edit(entries, 3, { signature: Buffer.alloc(64).toString('base64') });
    expect(verifyAuditLog(sut)).toMatchObject({ ok: true, signatures: 'head' });
    expect(verifyAuditLog(sut, { signatures: 'every' }).problem).toMatchObject({
      position: 3,
      field: 'signature',
    });
  });
});

describe(entryHash.name, () => {
  it('hashes exactly the documented canonical bytes, whatever the values contain', () => {
    const {
      hash: _h,
      signature: _s,
      ...body
    } = {
      v: '1',
      seq: '12',
      time: '2026-11-27T10:00:01.000Z',
      actor: 'höpital-ß',
      event: 'egress',
      federation: 'f:1\nround:2',
      round: '',
      kind: 'Rounds/SubmitMaskedSummary',
      peer: '日本',
      bytes: '10',
      sha256: 'ab'.repeat(32),
      epsilon: '',
      epsilonTotal: '',
      epsilonLimit: '',
      detail: 'emoji \u{1F600}, lone surrogate \uD800, colon: newline\n',
      prev: '0'.repeat(64),
      hash: '',
      signature: '',
    };
    const bytes = canonicalEntryBytes(body);
    expect(bytes.toString('utf8')).toContain('seq:2:12\n');
    expect(bytes.toString('utf8')).toContain('actor:11:höpital-ß\n');
    expect(entryHash(body)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
