import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { type AuditEntry, AuditChain, SqliteAuditLogStore, signLogHead } from '@fedistill/audit';
import { encodeNpy } from '@fedistill/data';
import { generateSiteKeys, type SiteKeys } from '@fedistill/identity';
import { DeclineReason, DeclineRoundRequest, type RoundAnnouncement } from '@fedistill/wire';
import { parseFederationSpec } from '@fedistill/protocol';
import type { FederationView } from '@fedistill/protocol';
import { encodeAnnouncement } from '@fedistill/protocol';
import { planRound } from '@fedistill/protocol';
import { APPROVALS_FILE, rosterFingerprint, saveApprovedRoster } from './approved-roster';
import { CoordinatorHeadWatch } from './coordinator-head-watch';
import type { NodeEgress, WireMethod } from './egress';
import type { NodeConfig } from './node-config';
import { testNodeConfig } from './testing/node-config';
import { type RoundAnswer, RoundAnswerer } from './round-answerer';
import { RoundParticipant } from './round-participant';
import { SiteLedger } from './site-ledger';

const SPEC = {
  id: 'fed',
  labels: ['no', 'yes'],
  input: { shape: [3] },
  referenceSet: { sha256: 'a'.repeat(64) },
  student: { architecture: 'mlp' },
  privacy: { mechanism: 'skellam', noiseMultiplier: 3, epsilonCap: 100 },
  secureAggregation: { dropoutTolerance: 0, maxTeachersPerSite: 8 },
  rounds: { minSites: 2, queriesPerRound: 5 },
};

/** The coordinator's own round planning, with whatever sites (and keys) an attacker feeds it. */
function announce(sites: { name: string; keys: SiteKeys }[]): RoundAnnouncement {
  const parsed = parseFederationSpec(SPEC);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const view: FederationView = { ...parsed.spec, members: [], createdAt: '', privacyOff: false };
  const roster = sites.map((s) => ({
    name: s.name,
    signingPublicKey: Buffer.from(s.keys.signingPublicKey).toString('hex'),
  }));
  return encodeAnnouncement(planRound(parsed.spec, 1, roster, [0, 4, 8, 12, 16], Date.now()), view);
}

/**
 * The node's side of the wire as a recorder: like the real egress gate it logs every message in
 * the site's audit log before "sending" it; the coordinator it talks to ends any round at the
 * first message (ABORTED), so what the node sent first is what it decided to send.
 */
class RecordingEgress {
  readonly sent: { kind: string; body: Buffer }[] = [];
  constructor(private readonly audit: AuditChain) {}
  async unary<Req, Res>(method: WireMethod<Req, Res>, request: Req): Promise<Res> {
    const kind = method.path.replace(/^\/fedistill\.v1\./, '');
    const body = method.requestSerialize(request);
    await this.audit.append({ event: 'egress', kind, peer: 'coordinator', bytes: String(body.length) });
    this.sent.push({ kind, body });
    if (kind === 'Rounds/DeclineRound') return {} as Res;
    throw Object.assign(new Error('round over'), { code: status.ABORTED, details: 'ended by the test' });
  }
}

describe('pinned membership (RoundAnswerer with an approved roster)', () => {
  let dir: string;
  let store: SqliteAuditLogStore;
  let egress: RecordingEgress;
  let sut: RoundAnswerer;
  let ledger: SiteLedger;
  const sites = ['a-site', 'b-site', 'c-site'].map((name) => ({ name, keys: generateSiteKeys() }));
  const me = sites[0]!;

  const config = (): NodeConfig =>
    testNodeConfig(dir, {
      site: me.name,
      data: { testFraction: 0.2 },
      teachers: { epochs: 2, learningRate: 0.01, seed: 1 },
    });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-membership-'));
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2},${i % 2}`);
    fs.writeFileSync(path.join(dir, 'train.csv'), `a,b,c,label\n${rows.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'reference.npy'), encodeNpy([20, 3], new Float32Array(60).fill(0.5)));
    store = new SqliteAuditLogStore(path.join(dir, 'audit-log.db'));
    const audit = new AuditChain(store, me.name, me.keys);
    egress = new RecordingEgress(audit);
    ledger = await SiteLedger.open(dir, { epsilonLimit: 100, delta: 1e-5 });
    const wire = egress as unknown as NodeEgress;
    sut = new RoundAnswerer({
      config: config(),
      egress: wire,
      audit,
      ledger,
      participant: new RoundParticipant(wire, me.name, me.keys.signingSecretKey, 1000),
      federation: (id) =>
        Promise.resolve({
          id,
          spec: SPEC,
          members: sites.map((s) => s.name),
          referenceFile: path.join(dir, 'reference.npy'),
          referenceSha256: 'a'.repeat(64),
        }),
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
  });
  afterEach(async () => {
    await sut.close();
    ledger.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const approve = (members: { name: string; keys: SiteKeys }[]) => {
    const roster = members.map((s) => ({
      site: s.name,
      signingPublicKey: Buffer.from(s.keys.signingPublicKey).toString('hex'),
    }));
    saveApprovedRoster(dir, {
      federation: 'fed',
      fingerprint: rosterFingerprint('fed', roster),
      approvedAt: new Date().toISOString(),
      members: roster,
    });
  };
  const entries = (): Promise<AuditEntry[]> => store.all();

  /** Declined as a membership refusal, recorded, and nothing but the refusal left the node. */
  async function expectRefused(answer: RoundAnswer, reason: RegExp): Promise<void> {
    expect(answer).toMatchObject({ status: 'declined', reason: expect.stringMatching(reason) });
    expect(egress.sent.map((s) => s.kind)).toEqual(['Rounds/DeclineRound']);
    const decline = DeclineRoundRequest.decode(egress.sent[0]!.body);
    expect(decline.reason).toBe(DeclineReason.DECLINE_REASON_MEMBERSHIP_REFUSED);
    expect(decline.detail).toMatch(reason);
    expect(decline.detail).not.toContain(dir);
    const log = await entries();
    expect(log.filter((e) => e.event === 'refusal').map((e) => e.detail)).toEqual([
      expect.stringMatching(reason),
    ]);
    const kinds = log.filter((e) => e.event === 'egress').map((e) => e.kind);
    expect(kinds).toEqual(['Rounds/DeclineRound']);
    // What the site was told is on its record: participants with key fingerprints, the noise plan.
    const received = log.find((e) => e.event === 'received' && e.kind === 'NodeSession/RoundAnnounced');
    expect(JSON.parse(received?.detail ?? '{}')).toMatchObject({
      participants: expect.arrayContaining([expect.objectContaining({ site: me.name })]),
      noise: { mechanism: 'NOISE_MECHANISM_SKELLAM' },
    });
  }

  it('takes part in a round among exactly the approved sites and keys (control)', async () => {
    approve(sites);
    const answer = await sut.handle(announce(sites));
    expect(answer.status).toBe('ended');
    expect(egress.sent.map((s) => s.kind)).toEqual(['Rounds/AdvertiseKeys']);
  });

  it("refuses a round in which the coordinator substituted a peer's identity key", async () => {
    approve(sites);
    const forged = sites.map((s) => (s.name === 'b-site' ? { ...s, keys: generateSiteKeys() } : s));
    await expectRefused(
      await sut.handle(announce(forged)),
      /identity key of participant 'b-site'.*not the approved one/,
    );
  });

  it('refuses a round with a sybil site the coordinator enrolled after the approval', async () => {
    approve(sites);
    const sybil = { name: 'd-site', keys: generateSiteKeys() };
    await expectRefused(
      await sut.handle(announce([...sites, sybil])),
      /participant 'd-site' is not in the roster approved for federation 'fed'/,
    );
  });

  it('refuses a two-site round below security.minParticipants, even among approved sites', async () => {
    approve(sites);
    await expectRefused(await sut.handle(announce(sites.slice(0, 2))), /2 participants; .*at least 3/);
  });

  it('refuses a round of a federation its operator never approved', async () => {
    await expectRefused(await sut.handle(announce(sites)), /federation 'fed' is not approved at this site/);
  });

  it('refuses rounds when the approved rosters cannot be read, without naming local paths', async () => {
    fs.writeFileSync(path.join(dir, APPROVALS_FILE), '{"version": 1, "federations": ');
    await expectRefused(await sut.handle(announce(sites)), /approved rosters cannot be read/);
  });

  it("refuses every round while a rollback of the coordinator's log is unacknowledged", async () => {
    approve(sites);
    const coordinator = generateSiteKeys();
    const watch = new CoordinatorHeadWatch(dir);
    watch.observe(signLogHead('coordinator', 9, 'b'.repeat(64), coordinator.signingSecretKey));
    watch.observe(signLogHead('coordinator', 4, 'c'.repeat(64), coordinator.signingSecretKey));
    await expectRefused(await sut.handle(announce(sites)), /rolled back.*acknowledges/);
  });
});
