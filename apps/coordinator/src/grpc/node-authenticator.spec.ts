import { Metadata } from '@grpc/grpc-js';
import { generateSiteKeys, RPC_HEADER, signRpc, type SiteKeys } from '@fedistill/identity';
import { type CoordinatorStore, openSqliteCoordinatorStore } from '@fedistill/store';
import { AuthenticationError } from '../domain/errors';
import { NodeAuthenticator } from './node-authenticator';

const METHOD = '/fedistill.v1.NodeSession/Heartbeat';
const BODY = Buffer.from('heartbeat bytes');

/** The metadata a node sends, signed by `keys` as `site` for coordinator `coordinator` (hex). */
function signed(keys: SiteKeys, site: string, coordinator: string): Metadata {
  const h = signRpc({ site, coordinator }, keys.signingSecretKey, METHOD, BODY);
  const md = new Metadata();
  md.set(RPC_HEADER.site, h.site);
  md.set(RPC_HEADER.coordinator, h.coordinator);
  md.set(RPC_HEADER.timestamp, String(h.timestamp));
  md.set(RPC_HEADER.nonce, h.nonce);
  md.set(RPC_HEADER.signature, h.signature);
  return md;
}

async function enrol(store: CoordinatorStore, site: string, keys: SiteKeys): Promise<void> {
  const tokenHash = `${site}-token`.padEnd(64, '0');
  await store.enrolments.issue({ tokenHash, siteName: site, createdAt: 0, expiresAt: Date.now() + 60_000 });
  const out = await store.enrolments.redeem({
    tokenHash,
    siteName: site,
    signingPublicKey: keys.signingPublicKey,
    boxPublicKey: keys.boxPublicKey,
    now: Date.now(),
  });
  if (!out.ok) throw new Error(out.reason);
}

const hex = (k: SiteKeys): string => Buffer.from(k.signingPublicKey).toString('hex');
const noTranscript = { append: () => Promise.resolve() };

describe(NodeAuthenticator.name, () => {
  const coordinatorX = generateSiteKeys();
  const coordinatorY = generateSiteKeys();
  const siteA = generateSiteKeys();
  let storeX: CoordinatorStore;
  let storeY: CoordinatorStore;
  let sut: NodeAuthenticator;
  let other: NodeAuthenticator;

  beforeEach(async () => {
    storeX = openSqliteCoordinatorStore(':memory:');
    storeY = openSqliteCoordinatorStore(':memory:');
    // The same site, with the same key, enrolled at two coordinators (two federations it joins).
    await enrol(storeX, 'site-a', siteA);
    await enrol(storeY, 'site-a', siteA);
    sut = new NodeAuthenticator(coordinatorX.signingPublicKey, storeX, 120_000, noTranscript);
    other = new NodeAuthenticator(coordinatorY.signingPublicKey, storeY, 120_000, noTranscript);
  });
  afterEach(async () => {
    await storeX.close();
    await storeY.close();
  });

  it('accepts a request signed for this site and this coordinator', async () => {
    await expect(
      sut.authenticate(METHOD, BODY, signed(siteA, 'site-a', hex(coordinatorX))),
    ).resolves.toMatchObject({
      name: 'site-a',
    });
  });

  it('refuses a request captured on its way to another coordinator and replayed here', async () => {
    const captured = signed(siteA, 'site-a', hex(coordinatorX));
    await sut.authenticate(METHOD, BODY, captured);
    // The replay carries X's name in its header: refused with a reason that says so.
    const replay = other.authenticate(METHOD, BODY, captured);
    await expect(replay).rejects.toThrow(AuthenticationError);
    await expect(replay).rejects.toThrow(/meant for another coordinator/);
    // Relabelling the header to Y's key breaks the signature, which covers it.
    const relabelled = captured.clone();
    relabelled.set(RPC_HEADER.coordinator, hex(coordinatorY));
    await expect(other.authenticate(METHOD, BODY, relabelled)).rejects.toThrow(/bad signature/);
  });

  it("refuses a request signed for site A sent with site B's name, even where B's record holds the same key", async () => {
    // A registry in which two sites share a key (the SQLite registry refuses it at enrolment;
    // a restored or hand-edited database need not): the signature alone must tell them apart.
    const record = await storeX.sites.get('site-a');
    if (!record) throw new Error('not enrolled');
    const shared: CoordinatorStore = {
      ...storeX,
      sites: {
        ...storeX.sites,
        get: (name) =>
          name === 'site-b' ? Promise.resolve({ ...record, name: 'site-b' }) : storeX.sites.get(name),
        recordSeen: (name, at) => (name === 'site-b' ? Promise.resolve() : storeX.sites.recordSeen(name, at)),
      },
    };
    const auth = new NodeAuthenticator(coordinatorX.signingPublicKey, shared, 120_000, noTranscript);
    const md = signed(siteA, 'site-a', hex(coordinatorX));
    md.set(RPC_HEADER.site, 'site-b');
    await expect(auth.authenticate(METHOD, BODY, md)).rejects.toThrow(
      "bad signature: the request is not signed by the enrolled key of site 'site-b'",
    );
  });

  it('tells a node that signs without naming a coordinator to upgrade', async () => {
    const md = signed(siteA, 'site-a', hex(coordinatorX));
    md.remove(RPC_HEADER.coordinator);
    await expect(sut.authenticate(METHOD, BODY, md)).rejects.toThrow(
      /x-fedistill-coordinator.*upgrade the node/,
    );
  });
});
