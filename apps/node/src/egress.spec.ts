import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { AuditChain, MemoryAuditLogStore, SqliteAuditLogStore } from '@fedistill/audit';
import { generateSiteKeys } from '@fedistill/identity';
import { createDevelopmentPki, type DevelopmentPki } from '@fedistill/pki';
import { HeartbeatRequest, NodeSessionService } from '@fedistill/wire';
import { EgressRefusedError, NodeEgress, type WireMethod } from './egress';

describe(NodeEgress.name, () => {
  let dir: string;
  let pki: DevelopmentPki;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-egress-'));
    pki = await createDevelopmentPki();
    fs.writeFileSync(path.join(dir, 'ca.crt'), pki.caCertPem);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('refusals', () => {
    const store = new MemoryAuditLogStore();
    let sut: NodeEgress;
    beforeAll(() => {
      // Nothing listens here: a refused message must fail before any connection is attempted.
      sut = new NodeEgress({
        audit: new AuditChain(store, 'site-a', generateSiteKeys()),
        address: '127.0.0.1:9',
        caFile: path.join(dir, 'ca.crt'),
        site: 'site-a',
        keys: generateSiteKeys(),
      });
    });
    afterAll(() => sut.close());

    it('refuses a method that is not part of the protocol, and records the refusal', async () => {
      const exfiltrate: WireMethod<{ rows: number[][] }, unknown> = {
        path: '/fedistill.v1.Records/Upload',
        requestSerialize: (v) => Buffer.from(JSON.stringify(v)),
        responseDeserialize: (b) => b,
      };
      await expect(sut.unary(exfiltrate, { rows: [[1, 2, 3]] })).rejects.toThrow(EgressRefusedError);
      await expect(sut.unary(exfiltrate, { rows: [] })).rejects.toThrow(
        'refusing to send /fedistill.v1.Records/Upload',
      );
      const refusals = store.entries.filter((e) => e.event === 'refusal');
      expect(refusals).toHaveLength(2);
      expect(refusals[0]).toMatchObject({ kind: '/fedistill.v1.Records/Upload', bytes: '', sha256: '' });
      expect(store.entries.filter((e) => e.event === 'egress')).toEqual([]);
    });

    it('refuses a protocol path carried by a hand-made serializer', async () => {
      const smuggle = {
        ...NodeSessionService.heartbeat,
        requestSerialize: (v: string) => Buffer.from(v),
      } as unknown as WireMethod<string, unknown>;
      await expect(sut.unary(smuggle, 'patient 42, age 61, diagnosis ...')).rejects.toThrow(
        EgressRefusedError,
      );
      await expect(sut.serverStream(smuggle, 'x')).rejects.toThrow(EgressRefusedError);
    });
  });

  it('writes the entry for a message to disk before the message is sent', async () => {
    const logFile = path.join(dir, 'audit-log.db');
    const store = new SqliteAuditLogStore(logFile);
    const seenByServer: Array<{ sha256: string; onDisk: boolean }> = [];
    // A stand-in coordinator: when bytes arrive, it reads the node's log file through its own
    // connection, as an auditor would after a crash at that instant.
    const server = new Server();
    server.addService(
      { heartbeat: { ...NodeSessionService.heartbeat, requestDeserialize: (b: Buffer) => b } },
      {
        heartbeat: (call: ServerUnaryCall<Buffer, unknown>, cb: sendUnaryData<unknown>) => {
          const sha256 = createHash('sha256').update(call.request).digest('hex');
          const reader = new SqliteAuditLogStore(logFile, { forReading: true });
          void reader.all().then((entries) => {
            reader.close();
            seenByServer.push({
              sha256,
              onDisk: entries.some((e) => e.event === 'egress' && e.sha256 === sha256),
            });
            cb(null, { serverTimeUnixMs: 1, heartbeatIntervalMs: 1 });
          });
        },
      },
    );
    const creds = ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(pki.serverCertPem), private_key: Buffer.from(pki.serverKeyPem) }],
      false,
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))),
    );
    const sut = new NodeEgress({
      audit: new AuditChain(store, 'site-a', generateSiteKeys()),
      address: `127.0.0.1:${port}`,
      caFile: path.join(dir, 'ca.crt'),
      site: 'site-a',
      keys: generateSiteKeys(),
      serverName: 'localhost',
      coordinatorKey: 'c0'.repeat(32),
    });
    await sut.unary(NodeSessionService.heartbeat, HeartbeatRequest.fromPartial({ nodeVersion: 'x' }));
    await sut.unary(NodeSessionService.heartbeat, HeartbeatRequest.fromPartial({ nodeVersion: 'y' }));
    sut.close();
    server.forceShutdown();
    store.close();
    expect(seenByServer).toHaveLength(2);
    expect(seenByServer.every((s) => s.onDisk)).toBe(true);
  });

  it("dials a coordinator by IP address without Node's TLS server-name warning (DEP0123)", async () => {
    // Node warns when tls.connect is given an IP address as `servername`, and only once per
    // process; a spec cannot hear it (Jest gives specs their own process object), so it watches
    // for the cause: every TLS connection grpc-js opens, and the server name it asked for.
    const tls = jest.requireActual<typeof import('node:tls')>('node:tls');
    const connect = jest.spyOn(tls, 'connect');
    const server = new Server();
    server.addService(
      { heartbeat: NodeSessionService.heartbeat },
      {
        heartbeat: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) =>
          cb(null, { serverTimeUnixMs: 1, heartbeatIntervalMs: 1 }),
      },
    );
    const creds = ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(pki.serverCertPem), private_key: Buffer.from(pki.serverKeyPem) }],
      false,
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))),
    );
    // No serverName: the certificate is checked against 127.0.0.1 (an IP SAN of the dev PKI).
    const sut = new NodeEgress({
      audit: new AuditChain(new MemoryAuditLogStore(), 'site-a', generateSiteKeys()),
      address: `127.0.0.1:${port}`,
      caFile: path.join(dir, 'ca.crt'),
      site: 'site-a',
      keys: generateSiteKeys(),
      coordinatorKey: 'c0'.repeat(32),
    });
    try {
      await expect(
        sut.unary(NodeSessionService.heartbeat, HeartbeatRequest.fromPartial({ nodeVersion: 'x' })),
      ).resolves.toMatchObject({ heartbeatIntervalMs: 1 });
      const names = connect.mock.calls.map(([options]) => (options as { servername?: unknown }).servername);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => typeof n === 'string' && isIP(n) !== 0)).toEqual([]);
    } finally {
      connect.mockRestore();
      sut.close();
      server.forceShutdown();
    }
  });
});
