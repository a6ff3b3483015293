import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { stringify } from 'yaml';
import {
  ArtifactsClient,
  type Chunk,
  type FederationInfo,
  GetChunkRequest,
  GetFederationRequest,
  NodeSessionClient,
} from '@fedistill/wire';
import { readSiteKeyFile, type SiteKeys } from '@fedistill/identity';
import { float32Npy } from './support/npy';
import {
  admin,
  type CoordinatorFixture,
  cli,
  enrolNodeWithCli,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import { enrollWithGeneratedClient, refusal, signedMetadata, tls, TLS_OPTIONS } from './support/wire-client';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Federations, reference sets in verified chunks, and what sites may and may not download. */
describe('federations and reference sets', () => {
  let fx: CoordinatorFixture;
  let reference: Buffer;
  let outsider: SiteKeys;

  beforeAll(async () => {
    fx = await startCoordinatorProcess();
    // 10 000 inputs of 30 features: 1.2 MB, so two 1 MiB chunks.
    const values = Float32Array.from({ length: 10_000 * 30 }, (_v, i) => Math.sin(i));
    reference = float32Npy([10_000, 30], values);
    fs.writeFileSync(path.join(fx.dir, 'reference.npy'), reference);
    const { body } = await admin<{ token: string }>(fx, 'POST', '/api/v1/enrolment-tokens', {
      site: 'outsider',
    });
    outsider = (await enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, 'outsider', body.token)).keys;
  });
  afterAll(() => fx.stop());

  const spec = {
    id: 'breast-cancer',
    labels: ['malignant', 'benign'],
    input: { shape: [30] },
    referenceSet: { file: 'reference.npy' },
    student: { architecture: 'mlp', hidden: [32] },
    privacy: { mechanism: 'skellam', noiseMultiplier: 2, epsilonCap: 8 },
    rounds: { minSites: 2 },
  };

  it('creates a federation from YAML, uploading its reference set, and a member node downloads and verifies it', async () => {
    const file = path.join(fx.dir, 'federation.yaml');
    fs.writeFileSync(file, stringify(spec));
    const created = await cli([
      'coordinator',
      'federation',
      'create',
      '--file',
      file,
      '--config',
      fx.configFile,
      '--json',
    ]);
    // The definition's default noise (100 soft-label queries per round, two sites of at most 16
    // teachers) swamps the signal: the planner says so on stderr, and nothing else is printed.
    expect(created.stderr).toMatch(
      /^warning: the noise on each released entry .* exceeds the largest signal/,
    );
    expect(created.stderr.trim().split('\n')).toHaveLength(1);
    const view = JSON.parse(created.stdout) as {
      referenceSet: { sha256: string };
      privacy: { delta: number };
    };
    expect(view.referenceSet.sha256).toBe(sha256(reference));
    expect(view.privacy.delta).toBe(1e-5);

    const dir = await enrolNodeWithCli(fx, 'site-a', path.join(fx.dir, 'site-a'));
    // A download interrupted earlier left one good chunk and one corrupt one behind.
    const dest = path.join(dir, 'federations', 'breast-cancer', 'reference.npy');
    fs.mkdirSync(`${dest}.parts`, { recursive: true });
    fs.writeFileSync(path.join(`${dest}.parts`, '0'), reference.subarray(0, 1024 * 1024));
    fs.writeFileSync(path.join(`${dest}.parts`, '1'), Buffer.from('garbage'));
    const node = spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, 'site-a.log'));
    const added = await cli([
      'coordinator',
      'federation',
      'add-site',
      'breast-cancer',
      'site-a',
      '--config',
      fx.configFile,
    ]);
    expect(added.stdout).toContain("site 'site-a' added");
    await waitFor('the reference set at the node', 20_000, () => (fs.existsSync(dest) ? true : undefined));
    node.kill('SIGTERM');
    expect(sha256(fs.readFileSync(dest))).toBe(sha256(reference));
    expect(fs.existsSync(`${dest}.parts`)).toBe(false);
    const log = fs.readFileSync(path.join(fx.dir, 'site-a.log'), 'utf8');
    expect(log).toMatch(/"fetched":1,"reused":1,"msg":"reference set verified"/);
    const listed = JSON.parse(
      (await cli(['coordinator', 'federation', 'list', '--json', '--config', fx.configFile])).stdout,
    ) as Array<{ members: string[] }>;
    expect(listed[0]?.members).toEqual(['site-a']);
  });

  it('refuses a reference set that is not NPY, and definitions with bad fields or a mismatched shape', async () => {
    const notNpy = await fetch(`${fx.adminUrl}/api/v1/reference-sets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fx.operatorToken}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from('id,age\n1,61\n'),
    });
    expect(notNpy.status).toBe(400);
    expect(((await notNpy.json()) as { error: string }).error).toMatch(/^reference set: /);
    const bad = await admin<{ error: string }>(fx, 'POST', '/api/v1/federations', {
      ...spec,
      id: 'x',
      referenceSet: { sha256: 'zz' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('id: must be 2-64');
    expect(bad.body.error).toContain('referenceSet.sha256: must be a lower-case hex SHA-256');
    const shape = await admin<{ error: string }>(fx, 'POST', '/api/v1/federations', {
      ...spec,
      id: 'other',
      input: { shape: [28, 28] },
      referenceSet: { sha256: sha256(reference) },
    });
    expect(shape.body.error).toContain("input.shape [28, 28] does not match the reference set's inputs [30]");
    const dup = await admin<{ error: string }>(fx, 'POST', '/api/v1/federations', {
      ...spec,
      referenceSet: { sha256: sha256(reference) },
    });
    expect(dup.status).toBe(409);
  });

  it('shows a federation and serves its reference set only to members', async () => {
    const request = { federationId: 'breast-cancer' };
    const client = new NodeSessionClient(fx.grpcAddress, tls(fx.caPem), TLS_OPTIONS);
    const md = signedMetadata(
      'outsider',
      outsider,
      '/fedistill.v1.NodeSession/GetFederation',
      GetFederationRequest.encode(request).finish(),
    );
    const notMember = await refusal(
      new Promise((resolve, reject) =>
        client.getFederation(request, md, (e, r) => (e ? reject(e) : resolve(r))),
      ),
    );
    client.close();
    expect(notMember.code).toBe(status.NOT_FOUND);

    const artifacts = new ArtifactsClient(fx.grpcAddress, tls(fx.caPem), TLS_OPTIONS);
    const chunk = (req: GetChunkRequest) =>
      new Promise<Chunk>((resolve, reject) =>
        artifacts.getChunk(
          req,
          signedMetadata(
            'outsider',
            outsider,
            '/fedistill.v1.Artifacts/GetChunk',
            GetChunkRequest.encode(req).finish(),
          ),
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
    const denied = await refusal(chunk({ sha256: Buffer.from(sha256(reference), 'hex'), index: 0 }));
    expect(denied.code).toBe(status.NOT_FOUND);

    // A member gets the definition, and a clear OUT_OF_RANGE past the last chunk.
    const member = readSiteKeyFile(path.join(fx.dir, 'site-a', 'site.key'));
    const memberChunk = (req: GetChunkRequest) =>
      new Promise<Chunk>((resolve, reject) =>
        artifacts.getChunk(
          req,
          signedMetadata(
            'site-a',
            member,
            '/fedistill.v1.Artifacts/GetChunk',
            GetChunkRequest.encode(req).finish(),
          ),
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
    expect((await memberChunk({ sha256: Buffer.from(sha256(reference), 'hex'), index: 1 })).data.length).toBe(
      reference.length - 1024 * 1024,
    );
    const past = await refusal(memberChunk({ sha256: Buffer.from(sha256(reference), 'hex'), index: 2 }));
    expect(past.code).toBe(status.OUT_OF_RANGE);
    expect(past.details).toBe('chunk 2 is past the last chunk (1)');
    artifacts.close();
    const sessions = new NodeSessionClient(fx.grpcAddress, tls(fx.caPem), TLS_OPTIONS);
    const info = await new Promise<FederationInfo>((resolve, reject) =>
      sessions.getFederation(
        request,
        signedMetadata(
          'site-a',
          member,
          '/fedistill.v1.NodeSession/GetFederation',
          GetFederationRequest.encode(request).finish(),
        ),
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
    sessions.close();
    expect(JSON.parse(info.specJson)).toMatchObject({
      labels: ['malignant', 'benign'],
      input: { shape: [30] },
    });
    expect(info.members).toEqual(['site-a']);
  });
});
