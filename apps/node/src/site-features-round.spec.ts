/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { AuditChain, SqliteAuditLogStore } from '@fedistill/audit';
import { encodeNpyFloat32 } from '@fedistill/data';
import { TeacherEnsemble } from '@fedistill/distill';
import { buildFeatureExtractor } from '@fedistill/features';
import { generateSiteKeys } from '@fedistill/identity';
import { encodeAnnouncement, type FederationView, parseFederationSpec, planRound } from '@fedistill/protocol';
import { DeclineReason, DeclineRoundRequest } from '@fedistill/wire';
import { rosterFingerprint, saveApprovedRoster } from './approved-roster';
import type { NodeEgress, WireMethod } from './egress';
import type { NodeConfig } from './node-config';
import { testNodeConfig } from './testing/node-config';
import { RoundAnswerer } from './round-answerer';
import { RoundParticipant } from './round-participant';
import { SiteLedger } from './site-ledger';

const PCA = { pca: { components: 2, whiten: false } };
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

/** Logs each message like the egress gate; the coordinator ends the round at the first one. */
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

describe('a round of a federation whose recorded feature extractor the site cannot rebuild', () => {
  let dir: string;
  let store: SqliteAuditLogStore;
  let ledger: SiteLedger;
  const sites = ['a-site', 'b-site', 'c-site'].map((name) => ({ name, keys: generateSiteKeys() }));
  const me = sites[0]!;
  const reference = Float32Array.from({ length: 20 * 3 }, (_, i) => ((i * 7) % 11) / 5);
  const privateRows = Array.from({ length: 40 }, (_, i) => [i % 7, (i * 3) % 5, i % 2, i % 2]);

  const config = (): NodeConfig =>
    testNodeConfig(dir, { site: me.name, teachers: { learningRate: 0.01, seed: 1 } });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-features-round-'));
    fs.writeFileSync(
      path.join(dir, 'train.csv'),
      `a,b,c,label\n${privateRows.map((r) => r.join(',')).join('\n')}\n`,
    );
    fs.writeFileSync(path.join(dir, 'reference.npy'), encodeNpyFloat32([20, 3], reference));
    store = new SqliteAuditLogStore(path.join(dir, 'audit-log.db'));
    ledger = await SiteLedger.open(dir, { epsilonLimit: 100, delta: 1e-5 });
    const roster = sites.map((s) => ({
      site: s.name,
      signingPublicKey: Buffer.from(s.keys.signingPublicKey).toString('hex'),
    }));
    saveApprovedRoster(dir, {
      federation: 'fed',
      fingerprint: rosterFingerprint('fed', roster),
      approvedAt: new Date().toISOString(),
      members: roster,
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    ledger.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function answer(sha256: string) {
    const spec = { ...SPEC, features: { ...PCA, sha256 } };
    const parsed = parseFederationSpec(spec);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const view: FederationView = { ...parsed.spec, members: [], createdAt: '', privacyOff: false };
    const keys = sites.map((s) => ({
      name: s.name,
      signingPublicKey: Buffer.from(s.keys.signingPublicKey).toString('hex'),
    }));
    const a = encodeAnnouncement(planRound(parsed.spec, 1, keys, [0, 4, 8, 12, 16], Date.now()), view);
    const audit = new AuditChain(store, me.name, me.keys);
    const egress = new RecordingEgress(audit);
    const wire = egress as unknown as NodeEgress;
    const sut = new RoundAnswerer({
      config: config(),
      egress: wire,
      audit,
      ledger,
      participant: new RoundParticipant(wire, me.name, me.keys.signingSecretKey, 1000),
      federation: (id) =>
        Promise.resolve({
          id,
          spec,
          members: sites.map((s) => s.name),
          referenceFile: path.join(dir, 'reference.npy'),
          referenceSha256: 'a'.repeat(64),
        }),
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    try {
      return { result: await sut.handle(a), sent: egress.sent };
    } finally {
      await sut.close();
    }
  }

  it('takes part with the honest digest (control)', async () => {
    const honest = await buildFeatureExtractor(PCA, [3], { features: reference, count: 20 });
    const { result, sent } = await answer(honest.sha256);
    expect(result.status).toBe('ended');
    expect(sent.map((s) => s.kind)).toEqual(['Rounds/AdvertiseKeys']);
  });

  it("declines with the digest of PCA fitted on the site's private records: nothing trained, sent or charged", async () => {
    const leaky = await buildFeatureExtractor(PCA, [3], {
      features: Float32Array.from(privateRows.flatMap((r) => r.slice(0, 3))),
      count: privateRows.length,
    });
    const train = jest.spyOn(TeacherEnsemble, 'train');
    const { result, sent } = await answer(leaky.sha256);
    expect(result).toMatchObject({
      status: 'declined',
      code: DeclineReason.DECLINE_REASON_UNAVAILABLE,
      reason: expect.stringContaining(`the coordinator recorded feature extractor ${leaky.sha256}`),
    });
    expect(sent.map((s) => s.kind)).toEqual(['Rounds/DeclineRound']);
    expect(DeclineRoundRequest.decode(sent[0]!.body).reason).toBe(DeclineReason.DECLINE_REASON_UNAVAILABLE);
    expect(train).not.toHaveBeenCalled();
    expect(ledger.spent).toBe(0);
  });
});
