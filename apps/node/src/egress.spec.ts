import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSiteKeys } from '@fedistill/identity';
import { createDevelopmentPki } from '@fedistill/pki';
import { HeartbeatRequest, NodeSessionService } from '@fedistill/wire';
import { EgressRefusedError, NodeEgress, type WireMethod } from './egress';

describe(NodeEgress.name, () => {
  let sut: NodeEgress;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-egress-'));
    fs.writeFileSync(path.join(dir, 'ca.crt'), (await createDevelopmentPki()).caCertPem);
    // Nothing listens here: a refused message must fail before any connection is attempted.
    sut = new NodeEgress({
      address: '127.0.0.1:9',
      caFile: path.join(dir, 'ca.crt'),
      site: 'site-a',
      keys: generateSiteKeys(),
    });
  });
  afterAll(() => {
    sut.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a method that is not part of the protocol', () => {
    const exfiltrate: WireMethod<{ rows: number[][] }, unknown> = {
      path: '/fedistill.v1.Records/Upload',
      requestSerialize: (v) => Buffer.from(JSON.stringify(v)),
      responseDeserialize: (b) => b,
    };
    expect(() => sut.unary(exfiltrate, { rows: [[1, 2, 3]] })).toThrow(EgressRefusedError);
    expect(() => sut.unary(exfiltrate, { rows: [] })).toThrow(
      'refusing to send /fedistill.v1.Records/Upload',
    );
  });

  it('refuses a protocol path carried by a hand-made serializer', () => {
    const smuggle: WireMethod<string, unknown> = {
      ...NodeSessionService.heartbeat,
      requestSerialize: (v: string) => Buffer.from(v),
    } as unknown as WireMethod<string, unknown>;
    expect(() => sut.unary(smuggle, 'patient 42, age 61, diagnosis ...')).toThrow(EgressRefusedError);
    expect(() => sut.serverStream(smuggle, 'x')).toThrow(EgressRefusedError);
  });

  it('lets the generated protocol methods through to the transport', async () => {
    const call = sut.unary(NodeSessionService.heartbeat, HeartbeatRequest.fromPartial({ nodeVersion: 'x' }), {
      deadlineMs: 200,
    });
    // It reaches the network layer (and fails there, since nothing listens): not an egress refusal.
    await expect(call).rejects.toMatchObject({ code: expect.any(Number) });
    await expect(call).rejects.not.toBeInstanceOf(EgressRefusedError);
  });
});
