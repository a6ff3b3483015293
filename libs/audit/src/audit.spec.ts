import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSiteKeys } from '@fedistill/identity';
import { describeAuditLogStoreContract } from './audit-log-store.contract';
import { AuditChain } from './audit-chain';
import { type AuditEntry, entryHash } from './entry';
import { AuditFormatError, fromJsonLines, toJsonLines } from './jsonl';
import { signLogHead } from './log-head';
import { buildAuditReport, renderAuditReport } from './report';
import { MemoryAuditLogStore, SqliteAuditLogStore } from './sqlite-store';
import { crossCheckAnchors, verifyAuditLog } from './verify';

describeAuditLogStoreContract('in memory', () => new MemoryAuditLogStore());
describeAuditLogStoreContract('SQLite', () => new SqliteAuditLogStore(':memory:'));

async function makeLog(actor = 'site-a', n = 6) {
  const keys = generateSiteKeys();
  const store = new MemoryAuditLogStore();
  let t = Date.parse('2026-11-27T10:00:00Z');
  const sut = new AuditChain(store, actor, keys, () => (t += 1000));
  for (let i = 0; i < n; i += 1) {
    await sut.append({
      event: 'egress',
      kind: 'NodeSession/Heartbeat',
      peer: 'coordinator',
      bytes: String(10 + i),
      sha256: 'ab'.repeat(32),
    });
  }
  return { keys, store, chain: sut, entries: store.entries };
}

describe(AuditChain.name, () => {
  it('starts with a genesis entry holding the public key and chains every entry to the previous one', async () => {
    const { entries, keys } = await makeLog();
    expect(entries[0]?.event).toBe('genesis');
    expect(JSON.parse(entries[0]?.detail ?? '{}')).toEqual({
      publicKey: Buffer.from(keys.signingPublicKey).toString('hex'),
    });
    expect(entries.map((e) => e.seq)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    for (let i = 1; i < entries.length; i += 1) expect(entries[i]?.prev).toBe(entries[i - 1]?.hash);
    expect(verifyAuditLog(entries)).toMatchObject({
      ok: true,
      actor: 'site-a',
      entries: 7,
      head: { seq: 7 },
    });
  });

  it('gives concurrent appends consecutive sequence numbers', async () => {
    const { chain, store } = await makeLog('site-a', 0);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => chain.append({ event: 'egress', detail: String(i) })),
    );
    expect(store.entries.map((e) => Number(e.seq))).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(verifyAuditLog(store.entries).ok).toBe(true);
  });
});

describe(verifyAuditLog.name, () => {
  const tamper = async (change: (entries: AuditEntry[]) => AuditEntry[]) => {
    const { entries } = await makeLog();
    return verifyAuditLog(change(entries.map((e) => ({ ...e }))));
  };

  it('locates an altered field (hash no longer matches)', async () => {
    const sut = await tamper((es) => es.map((e) => (e.seq === '4' ? { ...e, bytes: '999999' } : e)));
    expect(sut.problem).toMatchObject({ position: 4, seq: '4', field: 'hash' });
  });

  it('locates an altered and re-hashed entry (signature fails)', async () => {
    const sut = await tamper((es) =>
      es.map((e) => {
        if (e.seq !== '3') return e;
        const changed = { ...e, peer: 'elsewhere' };
        return { ...changed, hash: entryHash(changed) };
      }),
    );
    expect(sut.problem).toMatchObject({ seq: '3', field: 'signature' });
  });

  it('locates a deletion, an insertion and a reordering', async () => {
    expect((await tamper((es) => es.filter((e) => e.seq !== '3'))).problem).toMatchObject({
      position: 3,
      seq: '4',
      field: 'seq',
    });
    expect((await tamper((es) => [...es.slice(0, 2), { ...es[1]! }, ...es.slice(2)])).problem).toMatchObject({
      position: 3,
      seq: '2',
      field: 'seq',
    });
    expect((await tamper((es) => [es[0]!, es[2]!, es[1]!, ...es.slice(3)])).problem?.field).toBe('seq');
  });

  it('locates a re-numbered rewrite by its broken chain', async () => {
    const sut = await tamper((es) => {
      const rest = es.filter((e) => e.seq !== '3').map((e, i) => ({ ...e, seq: String(i + 1) }));
      return rest;
    });
    expect(sut.problem).toMatchObject({ position: 3, field: 'prev' });
  });

  it('refuses a log signed by another key than the pinned one, and an empty log', async () => {
    const { entries } = await makeLog();
    expect(verifyAuditLog(entries, 'ab'.repeat(32)).problem).toMatchObject({ position: 1, field: 'detail' });
    expect(verifyAuditLog([]).problem?.reason).toMatch(/empty/);
  });
});

describe(crossCheckAnchors.name, () => {
  async function anchoredPair() {
    const site = await makeLog('site-a', 3);
    const coord = await makeLog('coordinator', 2);
    // The site sends its head; the coordinator records it, then the site records the coordinator's head.
    const siteHead = await site.chain.head();
    const sh = signLogHead('site-a', Number(siteHead.seq), siteHead.hash, site.keys.signingSecretKey);
    await coord.chain.append({ event: 'anchor', peer: 'site-a', detail: JSON.stringify({ head: sh }) });
    const coordHead = await coord.chain.head();
    const ch = signLogHead('coordinator', Number(coordHead.seq), coordHead.hash, coord.keys.signingSecretKey);
    await site.chain.append({ event: 'anchor', peer: 'coordinator', detail: JSON.stringify({ head: ch }) });
    return { site, coord };
  }
  const check = (a: AuditEntry[], b: AuditEntry[]) =>
    crossCheckAnchors([
      { verification: verifyAuditLog(a), entries: a },
      { verification: verifyAuditLog(b), entries: b },
    ]);

  it('accepts two logs whose anchors agree', async () => {
    const { site, coord } = await anchoredPair();
    expect(check(site.entries, coord.entries)).toEqual([]);
  });

  it('detects a site log rewritten from scratch with its own key (consistent by itself)', async () => {
    const { site, coord } = await anchoredPair();
    // The site re-creates its whole log with different content: it verifies alone, but the
    // coordinator's anchor of the old head no longer matches.
    const rewritten = new MemoryAuditLogStore();
    const chain = new AuditChain(rewritten, 'site-a', site.keys);
    for (const e of site.entries.slice(1))
      await chain.append({ event: e.event as 'egress', bytes: '1', detail: e.detail });
    expect(verifyAuditLog(rewritten.entries).ok).toBe(true);
    const problems = check(rewritten.entries, coord.entries);
    expect(problems[0]).toMatchObject({ log: 'site-a', seq: '4', field: 'hash' });
  });

  it('detects a truncated coordinator log', async () => {
    const { site, coord } = await anchoredPair();
    const problems = check(site.entries, coord.entries.slice(0, 3));
    expect(problems[0]).toMatchObject({ log: 'coordinator', field: 'seq' });
    expect(problems[0]?.reason).toMatch(/truncated/);
  });
});

describe('JSON Lines export', () => {
  it('round-trips and names the line and field of a malformed file', async () => {
    const { entries } = await makeLog();
    expect(fromJsonLines(toJsonLines(entries))).toEqual(entries);
    expect(() => fromJsonLines('{"v":"1"}\n', 'log.jsonl')).toThrow(
      "log.jsonl:1: field 'seq' is missing or not a string",
    );
    expect(() => fromJsonLines(`${toJsonLines(entries)}nope\n`, 'log.jsonl')).toThrow(AuditFormatError);
  });

  it('can be verified by an independent implementation written from docs/audit-log.md', async () => {
    const { entries } = await makeLog();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-audit-'));
    const file = path.join(dir, 'log.jsonl');
    fs.writeFileSync(file, toJsonLines(entries));
    const verifier = path.join(__dirname, '..', '..', '..', 'docs', 'audit-log-verify.py');
    const out = execFileSync('python3', [verifier, file], { encoding: 'utf8' });
    expect(out).toContain('signatures ok');
    expect(out.trim().split('\n').at(-1)).toBe('chain ok: 7 entries, head 7');
    const lines = toJsonLines(entries).split('\n');
    lines[3] = lines[3]!.replace('"bytes":"12"', '"bytes":"13"');
    fs.writeFileSync(file, lines.join('\n'));
    let stdout = '';
    try {
      execFileSync('python3', [verifier, file], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stdout = String((err as { stdout?: string }).stdout);
    }
    expect(stdout).toContain('entry 4: hash: content does not match the stored hash');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe(buildAuditReport.name, () => {
  it('summarizes what left, the epsilon against the limit, and renders md, html and json', async () => {
    const { chain, store } = await makeLog('site-a', 2);
    await chain.append({
      event: 'egress',
      federation: 'f1',
      round: '1',
      kind: 'Rounds/SubmitMaskedSummary',
      peer: 'coordinator',
      bytes: '4000',
      epsilon: '0.5',
      epsilonTotal: '0.5',
      epsilonLimit: '2',
      // As a node writes it: the assumption beside the ledger charge.
      detail: JSON.stringify({
        assumption:
          'assuming at most 1 of 3 participants collude with the coordinator and at most 0 drop out',
        charge: { label: 'f1#1', count: 1, mechanism: { kind: 'skellam', mu: 100, l2: 2, l1: 4 } },
      }),
    });
    await chain.append({
      event: 'refusal',
      federation: 'f1',
      round: '2',
      kind: 'Rounds/DeclineRound',
      detail: 'budget: 0.5 + 1.6 > 2',
    });
    const sut = buildAuditReport(store.entries, verifyAuditLog(store.entries));
    expect(sut.totals).toMatchObject({ messagesSent: 3, bytesSent: 10 + 11 + 4000, refusals: 1 });
    expect(sut.epsilon).toMatchObject({ total: 0.5, limit: 2 });
    expect(sut.rounds).toContainEqual({
      federation: 'f1',
      round: '1',
      what: ['Rounds/SubmitMaskedSummary'],
      messages: 1,
      bytes: 4000,
      epsilon: 0.5,
      assumption: 'assuming at most 1 of 3 participants collude with the coordinator and at most 0 drop out',
    });
    // The trust assumption stands next to the epsilon it qualifies.
    expect(renderAuditReport(sut, 'md')).toContain(
      'Epsilon spent: 0.5 of a limit of 2, assuming at most 1 of 3 participants collude with the coordinator and at most 0 drop out.',
    );
    expect(renderAuditReport(sut, 'html')).toContain(
      'of a limit of 2, assuming at most 1 of 3 participants collude with the coordinator',
    );
    expect(renderAuditReport(sut, 'html')).toContain('<svg');
    expect(JSON.parse(renderAuditReport(sut, 'json'))).toMatchObject({ actor: 'site-a', verified: true });
  });

  it("reports the coordinator's log by what it records, with each published student's epsilon beside its round", async () => {
    const keys = generateSiteKeys();
    const store = new MemoryAuditLogStore();
    let t = Date.parse('2026-11-27T10:00:00Z');
    const chain = new AuditChain(store, 'coordinator', keys, () => (t += 1000));
    await chain.append({
      event: 'round',
      federation: 'f1',
      round: '1',
      detail: 'opened with a, b, c; 40 queries',
    });
    await chain.append({
      event: 'received',
      federation: 'f1',
      round: '1',
      peer: 'c',
      kind: 'Rounds/DeclineRound',
      detail: 'DECLINE_REASON_BUDGET_EXHAUSTED: past its limit',
    });
    await chain.append({
      event: 'rejected',
      peer: 'b',
      kind: 'Audit/AnchorLogHead',
      detail: 'bad signature',
    });
    await chain.append({ event: 'round', federation: 'f1', round: '1', detail: 'completed' });
    await chain.append({
      event: 'round',
      federation: 'f1',
      round: '1',
      sha256: 'cd'.repeat(32),
      epsilon: '3.01',
      detail: 'student v1 published: 40 reference rows from rounds 1; skellam, epsilon 3.01',
    });
    const sut = buildAuditReport(store.entries, verifyAuditLog(store.entries));
    expect(sut.keeper).toBe('coordinator');
    expect(sut.totals).toMatchObject({ messagesSent: 0, received: 1, refusals: 1, roundEvents: 3 });
    expect(sut.students).toEqual([
      {
        time: '2026-11-27T10:00:06.000Z',
        federation: 'f1',
        round: '1',
        epsilon: 3.01,
        detail: 'student v1 published: 40 reference rows from rounds 1; skellam, epsilon 3.01',
      },
    ]);
    expect(sut.rounds).toContainEqual(
      expect.objectContaining({ federation: 'f1', round: '1', epsilon: 3.01 }),
    );
    const md = renderAuditReport(sut, 'md');
    // Nothing claims that no message left a "site", or that epsilon 0 was spent.
    expect(md).not.toContain('What left this site');
    expect(md).not.toContain('Epsilon spent');
    expect(md).toContain(
      "This is the coordinator's log: what it received from sites (1 message), what it refused or rejected (1), 3 round events",
    );
    expect(md).toContain('The coordinator spends no privacy budget of its own');
    expect(md).toContain('| federation | round | messages | bytes | student epsilon | assuming |');
    expect(md).toContain('| f1 | 1 | 3.01 | student v1 published');
    const html = renderAuditReport(sut, 'html');
    expect(html).toContain('<h2>What this log records</h2>');
    expect(html).toContain('<th>student epsilon</th>');
    expect(html).not.toContain('What left this site');
  });
});
