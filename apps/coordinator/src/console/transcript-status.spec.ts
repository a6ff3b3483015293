import { AuditChain, type AuditEntry, MemoryAuditLogStore, signLogHead } from '@fedistill/audit';
import { generateSiteKeys } from '@fedistill/identity';
import { transcriptStatus } from './transcript-status';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function transcript() {
  const coordinator = generateSiteKeys();
  const site = generateSiteKeys();
  const impostor = generateSiteKeys();
  const store = new MemoryAuditLogStore();
  const chain = new AuditChain(store, 'coordinator', coordinator);
  const good = signLogHead('st-marys', 7, 'b'.repeat(64), site.signingSecretKey, Date.UTC(2026, 0, 2));
  const forged = signLogHead('st-marys', 9, 'c'.repeat(64), impostor.signingSecretKey, Date.UTC(2026, 0, 3));
  await chain.append({ event: 'anchor', peer: 'st-marys', detail: JSON.stringify({ head: good }) });
  await chain.append({ event: 'anchor', peer: 'st-marys', detail: JSON.stringify({ head: forged }) });
  const keys = new Map([
    ['st-marys', site.signingPublicKey],
    ['riverside', generateSiteKeys().signingPublicKey],
  ]);
  return { entries: await store.all(), coordinatorKey: hex(coordinator.signingPublicKey), keys };
}

describe(transcriptStatus.name, () => {
  it("verifies the transcript and counts each site's anchors, only those signed by its enrolled key as verified", async () => {
    const t = await transcript();
    const sut = transcriptStatus(t.entries, t.coordinatorKey, t.keys, new Date(0));
    expect(sut).toMatchObject({ ok: true, entries: 3, problem: null, publicKey: t.coordinatorKey });
    expect(sut.head?.seq).toBe(3);
    expect(sut.anchors).toEqual([
      { site: 'riverside', received: 0, verified: 0, latest: null },
      {
        site: 'st-marys',
        received: 2,
        verified: 1,
        latest: { sequence: 7, signedAt: '2026-01-02T00:00:00.000Z', recordedAt: t.entries[1]!.time },
      },
    ]);
  });

  it('names the first bad entry of an altered transcript, and one signed by another key', async () => {
    const t = await transcript();
    const altered: AuditEntry[] = t.entries.map((e, i) => (i === 1 ? { ...e, peer: 'riverside' } : e));
    const sut = transcriptStatus(altered, t.coordinatorKey, t.keys);
    expect(sut.ok).toBe(false);
    expect(sut.problem).toMatchObject({ position: 2, seq: '2' });
    const other = transcriptStatus(t.entries, hex(generateSiteKeys().signingPublicKey), t.keys);
    expect(other.ok).toBe(false);
    expect(other.problem?.reason).toMatch(/is not the expected/);
  });
});
