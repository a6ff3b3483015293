import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { AuditChain, SqliteAuditLogStore } from '@fedistill/audit';
import type { Mechanism, Release } from '@fedistill/dp';
import { readSiteKeyFile } from '@fedistill/identity';
import { createDevelopmentPki } from '@fedistill/pki';
import { RoundsService, SubmitMaskedSummaryRequest, SubmitMaskedSummaryResponse } from '@fedistill/wire';
import { NodeEgress } from './egress';
import { initNode } from './init-node';
import { LedgerRebuildError, rebuildLedger } from './ledger-rebuild';
import { NODE_FILES } from './node-config';
import { LOCK_FILE, NodeLockedError } from './node-lock';
import { LEDGER_FILE, LedgerBehindLogError, SiteLedger } from './site-ledger';

// node.yaml's defaults (privacy.epsilonLimit 8, delta 1e-5): what `node start` would open with.
const LIMITS = { epsilonLimit: 8, delta: 1e-5 };
const SKELLAM: Mechanism = { kind: 'skellam', mu: 400, l2: 2, l1: 4 };

describe(SiteLedger.name, () => {
  let root: string;
  let dir: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-site-ledger-'));
    const pki = await createDevelopmentPki();
    fs.writeFileSync(path.join(root, 'ca.crt'), pki.caCertPem);
    // A stand-in coordinator that accepts masked summaries: the node's real egress path writes
    // the log entries these tests read back.
    server = new Server();
    server.addService(
      { submitMaskedSummary: RoundsService.submitMaskedSummary },
      {
        submitMaskedSummary: (_c: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) =>
          cb(null, SubmitMaskedSummaryResponse.fromPartial({})),
      },
    );
    const creds = ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(pki.serverCertPem), private_key: Buffer.from(pki.serverKeyPem) }],
      false,
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))),
    );
  });
  afterAll(() => {
    server.forceShutdown();
    fs.rmSync(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(root, 'node-'));
    await initNode({
      dir,
      coordinator: `127.0.0.1:${port}`,
      caFile: path.join(root, 'ca.crt'),
      site: 'site-a',
      serverName: 'localhost',
    });
  });

  /** Answers rounds as the answerer does: commit the spend, then send the masked input through the egress gate. */
  async function answerRounds(
    ledger: SiteLedger,
    rounds: number[],
    opts: { resend?: boolean } = {},
  ): Promise<void> {
    const keys = readSiteKeyFile(path.join(dir, NODE_FILES.keys));
    const store = new SqliteAuditLogStore(path.join(dir, NODE_FILES.auditLog));
    const egress = new NodeEgress({
      audit: new AuditChain(store, 'site-a', keys),
      address: `127.0.0.1:${port}`,
      caFile: path.join(root, 'ca.crt'),
      site: 'site-a',
      keys,
      serverName: 'localhost',
      coordinatorKey: 'c0'.repeat(32),
    });
    try {
      for (const round of rounds) {
        const release: Release = { label: `fed#${round}`, mechanism: SKELLAM, count: 1 };
        const quote = ledger.commit(release);
        const request = SubmitMaskedSummaryRequest.fromPartial({
          round: { federationId: 'fed', round },
          maskedVector: Buffer.from(`masked ${round}`),
          length: 4,
        });
        const context = {
          federation: 'fed',
          round,
          epsilon: quote.epsilonAfter - quote.epsilonBefore,
          epsilonTotal: quote.epsilonAfter,
          epsilonLimit: ledger.epsilonLimit,
          assumption: 'paranoid',
          charge: release,
        };
        await egress.unary(RoundsService.submitMaskedSummary, request, { context });
        // The participant re-sends the same bytes when the coordinator does not answer.
        if (opts.resend) await egress.unary(RoundsService.submitMaskedSummary, request, { context });
      }
    } finally {
      egress.close();
      store.close();
    }
  }

  describe('one process per node directory', () => {
    it('refuses a second ledger on the same directory while the first is open, naming the directory and the pid', async () => {
      const first = await SiteLedger.open(dir, LIMITS);
      const second = SiteLedger.open(dir, LIMITS);
      await expect(second).rejects.toThrow(NodeLockedError);
      await expect(SiteLedger.open(dir, LIMITS)).rejects.toThrow(
        new RegExp(`node directory ${dir} is in use by process ${process.pid}`),
      );
      first.close();
      const third = await SiteLedger.open(dir, LIMITS);
      third.close();
      expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    });

    it('takes over a lock left by a process that died (kill -9, power loss)', async () => {
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
        encoding: 'utf8',
      });
      fs.writeFileSync(
        path.join(dir, LOCK_FILE),
        JSON.stringify({
          pid: Number(dead.stdout),
          host: os.hostname(),
          startedAt: '2026-01-01T00:00:00.000Z',
        }),
      );
      const sut = await SiteLedger.open(dir, LIMITS);
      expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'))).toMatchObject({
        pid: process.pid,
      });
      sut.close();
    });
  });

  describe('the ledger and the egress log', () => {
    it('refuses to start when the ledger is missing but the egress log shows spending, naming the rebuild command', async () => {
      const ledger = await SiteLedger.open(dir, LIMITS);
      await answerRounds(ledger, [1, 2]);
      ledger.close();
      fs.rmSync(path.join(dir, LEDGER_FILE));
      const refusal = SiteLedger.open(dir, LIMITS);
      await expect(refusal).rejects.toThrow(LedgerBehindLogError);
      await expect(SiteLedger.open(dir, LIMITS)).rejects.toThrow(
        `${path.join(dir, LEDGER_FILE)} is missing, but the egress log shows 2 release(s) that spent privacy budget`,
      );
      await expect(SiteLedger.open(dir, LIMITS)).rejects.toThrow(
        `fedistill node ledger rebuild --dir ${dir}`,
      );
      // The refusal released the lock and wrote no fresh ledger.
      expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
      expect(fs.existsSync(path.join(dir, LEDGER_FILE))).toBe(false);
    });

    it('refuses a ledger restored from an older backup that lacks a release the log shows', async () => {
      const ledger = await SiteLedger.open(dir, LIMITS);
      await answerRounds(ledger, [1]);
      const backup = fs.readFileSync(path.join(dir, LEDGER_FILE));
      await answerRounds(ledger, [2]);
      ledger.close();
      fs.writeFileSync(path.join(dir, LEDGER_FILE), backup);
      await expect(SiteLedger.open(dir, LIMITS)).rejects.toThrow(
        /does not record 1 release\(s\).*round fed#2/,
      );
    });

    it('rebuilds the same totals from the verified log, counting a re-sent release once', async () => {
      const ledger = await SiteLedger.open(dir, LIMITS);
      await answerRounds(ledger, [1, 2, 3], { resend: true });
      const { spent, entries } = ledger;
      ledger.close();
      fs.rmSync(path.join(dir, LEDGER_FILE));
      const res = await rebuildLedger(dir);
      expect(res).toMatchObject({ releases: 3, differences: [] });
      expect(res.epsilonSpent).toBeCloseTo(spent, 12);
      const reopened = await SiteLedger.open(dir, LIMITS);
      expect(reopened.spent).toBeCloseTo(spent, 12);
      expect(reopened.entries.map((e) => e.label)).toEqual(entries.map((e) => e.label));
      reopened.close();
      // Rebuilding never overwrites a ledger.
      await expect(rebuildLedger(dir)).rejects.toThrow(/exists: rebuilding never overwrites a ledger/);
    });

    it('refuses to rebuild from a log that does not verify, and writes nothing', async () => {
      const ledger = await SiteLedger.open(dir, LIMITS);
      await answerRounds(ledger, [1, 2]);
      ledger.close();
      fs.rmSync(path.join(dir, LEDGER_FILE));
      // An attacker with the disk lowers the logged cost of round 2 to get the budget back.
      const db = new Database(path.join(dir, NODE_FILES.auditLog));
      db.prepare("UPDATE audit_log SET epsilon = '0.0001' WHERE round = '2' AND event = 'egress'").run();
      db.close();
      await expect(rebuildLedger(dir)).rejects.toThrow(LedgerRebuildError);
      await expect(rebuildLedger(dir)).rejects.toThrow(/the egress log does not verify.*hash/);
      expect(fs.existsSync(path.join(dir, LEDGER_FILE))).toBe(false);
    });

    it('refuses to rebuild while the node holds its directory', async () => {
      const ledger = await SiteLedger.open(dir, LIMITS);
      await expect(rebuildLedger(dir)).rejects.toThrow(NodeLockedError);
      ledger.close();
    });
  });

  it('a temporary file left by a crash before the rename leaves the previous ledger in force', async () => {
    const ledger = await SiteLedger.open(dir, LIMITS);
    await answerRounds(ledger, [1]);
    const { spent } = ledger;
    ledger.close();
    // What a kill between write and rename leaves behind (the e2e kills a real process there).
    fs.writeFileSync(path.join(dir, `${LEDGER_FILE}.tmp`), '{"orders": [2], "curve": [9');
    const reopened = await SiteLedger.open(dir, LIMITS);
    expect(reopened.spent).toBe(spent);
    expect(fs.existsSync(path.join(dir, `${LEDGER_FILE}.tmp`))).toBe(false);
    reopened.close();
  });
});
