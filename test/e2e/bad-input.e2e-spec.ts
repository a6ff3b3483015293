import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { generateEnrolmentToken, generateSiteKeys, type SiteKeys } from '@fedistill/identity';
import { createDevelopmentPki } from '@fedistill/pki';
import { HeartbeatRequest, NodeSessionClient } from '@fedistill/wire';
import { credentials } from '@grpc/grpc-js';
import {
  admin,
  type CoordinatorFixture,
  cli,
  snapshotDatabase,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import {
  enrollWithGeneratedClient,
  HEARTBEAT,
  heartbeat,
  rawUnary,
  refusal,
  signedHeartbeat,
  signedMetadata,
  TLS_OPTIONS,
} from './support/wire-client';

/**
 * Every kind of bad input is refused with a specific status and a message that names the cause,
 * leaves the coordinator's database exactly as it was, and is logged.
 */
describe('bad input at the coordinator', () => {
  let fx: CoordinatorFixture;
  let keys: SiteKeys;
  const site = 'site-a';

  beforeAll(async () => {
    fx = await startCoordinatorProcess();
    const { body } = await admin<{ token: string }>(fx, 'POST', '/api/v1/enrolment-tokens', { site });
    keys = (await enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, site, body.token)).keys;
  });
  afterAll(() => fx.stop());

  /** Runs `attempt`, and checks that the database did not change and the log names `reason`. */
  async function unchanged<T>(reason: string, attempt: () => Promise<T>): Promise<T> {
    const before = snapshotDatabase(fx.dbFile);
    const result = await attempt();
    expect(snapshotDatabase(fx.dbFile)).toEqual(before);
    await waitFor(`the log to mention "${reason}"`, 5000, () =>
      fs.readFileSync(fx.logFile, 'utf8').includes(reason) ? true : undefined,
    );
    return result;
  }

  it('accepts a well-formed signed request (the baseline the refusals differ from)', async () => {
    const res = await signedHeartbeat(fx.grpcAddress, fx.caPem, site, keys);
    expect(res.heartbeatIntervalMs).toBe(300);
  });

  it('refuses malformed protobuf with INVALID_ARGUMENT', async () => {
    const body = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const err = await unchanged('malformed protobuf', () =>
      refusal(
        rawUnary(fx.grpcAddress, fx.caPem, HEARTBEAT, body, signedMetadata(site, keys, HEARTBEAT, body)),
      ),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^malformed protobuf: not a valid HeartbeatRequest/);
  });

  it('refuses a field over its documented limit, naming the field', async () => {
    const err = await unchanged("field 'nodeVersion' is 65 bytes", () =>
      refusal(
        signedHeartbeat(fx.grpcAddress, fx.caPem, site, keys, {
          nodeVersion: 'v'.repeat(65),
          activeRounds: [],
        }),
      ),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe("HeartbeatRequest: field 'nodeVersion' is 65 bytes; the limit is 64");
  });

  it('refuses an unknown site', async () => {
    const err = await unchanged("unknown site 'ghost'", () =>
      refusal(signedHeartbeat(fx.grpcAddress, fx.caPem, 'ghost', generateSiteKeys())),
    );
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toBe("unknown site 'ghost': it is not enrolled");
  });

  it('refuses a bad signature and an unsigned request', async () => {
    const bad = await unchanged('bad signature', () =>
      refusal(signedHeartbeat(fx.grpcAddress, fx.caPem, site, generateSiteKeys())),
    );
    expect(bad.code).toBe(status.UNAUTHENTICATED);
    const unsigned = await unchanged('request is not signed', () =>
      refusal(heartbeat(fx.grpcAddress, fx.caPem, { nodeVersion: 'x', activeRounds: [] }, new Metadata())),
    );
    expect(unsigned.code).toBe(status.UNAUTHENTICATED);
    expect(unsigned.details).toContain('missing metadata x-fedistill-site');
  });

  it('refuses a replayed request and a timestamp outside the window', async () => {
    const request = { nodeVersion: 'replay', activeRounds: [] };
    const md = signedMetadata(site, keys, HEARTBEAT, HeartbeatRequest.encode(request).finish());
    await heartbeat(fx.grpcAddress, fx.caPem, request, md);
    const replay = await unchanged('replayed request', () =>
      refusal(heartbeat(fx.grpcAddress, fx.caPem, request, md)),
    );
    expect(replay.code).toBe(status.UNAUTHENTICATED);
    expect(replay.details).toMatch(
      /^replayed request: nonce [0-9a-f]{32} was already used by site 'site-a'$/,
    );
    const old = signedMetadata(site, keys, HEARTBEAT, HeartbeatRequest.encode(request).finish(), {
      timestamp: Date.now() - 10 * 60_000,
    });
    const stale = await unchanged('outside the allowed window', () =>
      refusal(heartbeat(fx.grpcAddress, fx.caPem, request, old)),
    );
    expect(stale.code).toBe(status.UNAUTHENTICATED);
  });

  it('refuses forged, reused, expired and wrong-site enrolment tokens', async () => {
    const forged = await unchanged('enrolment token is unknown', () =>
      refusal(enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, 'site-b', generateEnrolmentToken())),
    );
    expect(forged.code).toBe(status.UNAUTHENTICATED);

    const { body: b } = await admin<{ token: string }>(fx, 'POST', '/api/v1/enrolment-tokens', {
      site: 'site-b',
    });
    const wrongSite = await unchanged('issued for another site', () =>
      refusal(enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, 'site-c', b.token)),
    );
    expect(wrongSite.code).toBe(status.PERMISSION_DENIED);
    await enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, 'site-b', b.token);
    const reused = await unchanged('already used', () =>
      refusal(enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, 'site-b', b.token)),
    );
    expect(reused.code).toBe(status.UNAUTHENTICATED);
    expect(reused.details).toBe('enrolment token was already used: tokens are one-time');

    const { body: short } = await admin<{ token: string }>(fx, 'POST', '/api/v1/enrolment-tokens', {
      site: 'site-d',
      ttl: '1s',
    });
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await unchanged('has expired', () =>
      refusal(enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, 'site-d', short.token)),
    );
    expect(expired.code).toBe(status.UNAUTHENTICATED);
  });

  it('refuses a revoked site with PERMISSION_DENIED', async () => {
    const { body } = await admin<{ token: string }>(fx, 'POST', '/api/v1/enrolment-tokens', {
      site: 'site-e',
    });
    const e = await enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, 'site-e', body.token);
    expect((await admin(fx, 'POST', '/api/v1/sites/site-e/revoke', { reason: 'test' })).status).toBe(200);
    const err = await unchanged("site 'site-e' is revoked", () =>
      refusal(signedHeartbeat(fx.grpcAddress, fx.caPem, 'site-e', e.keys)),
    );
    expect(err.code).toBe(status.PERMISSION_DENIED);
  });

  it('cannot be reached without TLS or with the wrong CA', async () => {
    const request = { nodeVersion: 'x', activeRounds: [] };
    const plain = new NodeSessionClient(fx.grpcAddress, credentials.createInsecure());
    const err = await unchanged('coordinator ready', () =>
      refusal(
        new Promise((resolve, reject) => plain.heartbeat(request, (e, r) => (e ? reject(e) : resolve(r)))),
      ),
    );
    plain.close();
    expect(err.code).toBe(status.UNAVAILABLE);
    const otherCa = (await createDevelopmentPki()).caCertPem;
    const wrong = new NodeSessionClient(
      fx.grpcAddress,
      credentials.createSsl(Buffer.from(otherCa)),
      TLS_OPTIONS,
    );
    const tlsErr = await refusal(
      new Promise((resolve, reject) => wrong.heartbeat(request, (e, r) => (e ? reject(e) : resolve(r)))),
    );
    wrong.close();
    expect(tlsErr.code).toBe(status.UNAVAILABLE);
    expect(tlsErr.details).toMatch(/certificate|handshake|SSL/i);
  });

  it('refuses admin requests without a token, with a wrong token, or with a bad body', async () => {
    const none = await unchanged('missing Authorization header', () =>
      admin<{ error: string }>(fx, 'GET', '/api/v1/sites', undefined, null),
    );
    expect(none.status).toBe(401);
    const wrong = await unchanged('wrong operator token', () =>
      admin<{ error: string }>(fx, 'GET', '/api/v1/sites', undefined, 'x'.repeat(40)),
    );
    expect(wrong).toEqual({
      status: 401,
      body: { error: 'wrong operator token or unknown access token', status: 401 },
    });
    const badSite = await unchanged("site name 'Bad Name' is invalid", () =>
      admin<{ error: string }>(fx, 'POST', '/api/v1/enrolment-tokens', { site: 'Bad Name' }),
    );
    expect(badSite.status).toBe(400);
    const badTtl = await unchanged("'ttl': 'forever' is not a duration", () =>
      admin<{ error: string }>(fx, 'POST', '/api/v1/enrolment-tokens', { site: 'site-z', ttl: 'forever' }),
    );
    expect(badTtl.status).toBe(400);
    const notJson = await unchanged('admin request refused', () =>
      admin<{ error: string }>(fx, 'POST', '/api/v1/enrolment-tokens', '{"site":'),
    );
    expect(notJson.status).toBe(400);
    const unknown = await unchanged("site 'nobody' is not enrolled", () =>
      admin<{ error: string }>(fx, 'POST', '/api/v1/sites/nobody/revoke', {}),
    );
    expect(unknown.status).toBe(404);
  });
});

describe('bad coordinator configuration', () => {
  it('fails at start naming the setting with a wrong type or a missing field', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-badcfg-'));
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      file,
      'grpc:\n  listen: 7443\n  tls:\n    cert: a.crt\nadmin:\n  operatorToken: 12345\n',
    );
    const res = await cli(['coordinator', 'start', '--config', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('grpc.listen: Invalid input: expected string, received number');
    expect(res.stderr).toContain('grpc.tls.key: Invalid input: expected string, received undefined');
    expect(res.stderr).toContain('admin.operatorToken: Invalid input: expected string, received number');
    expect(fs.readdirSync(dir)).toEqual(['bad.yaml']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
