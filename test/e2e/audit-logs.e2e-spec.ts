import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { AuditChain, SqliteAuditLogStore } from '@fedistill/audit';
import { readSiteKeyFile } from '@fedistill/identity';
import {
  type CoordinatorFixture,
  cli,
  enrolNodeWithCli,
  exited,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';

interface Verification {
  ok: boolean;
  logs: Array<{
    ok: boolean;
    actor: string;
    entries: number;
    problem?: { seq: string; field: string; reason: string };
  }>;
  anchorsChecked: number;
  anchorProblems: Array<{ log: string; seq: string; field: string }>;
}

/** Signed, hash-chained logs on both sides of a real session, and the auditor's tools. */
describe('audit logs of a node and the coordinator', () => {
  let fx: CoordinatorFixture;
  let nodeDir: string;
  const dataDir = () => path.join(fx.dir, 'data');

  const verify = async (...args: string[]) => {
    const res = await cli(['audit', 'verify', '--json', ...args]);
    return { code: res.code, result: JSON.parse(res.stdout) as Verification };
  };
  const copyOf = (dir: string, name: string) => {
    const copy = path.join(fx.dir, name);
    fs.cpSync(dir, copy, { recursive: true });
    return copy;
  };

  beforeAll(async () => {
    fx = await startCoordinatorProcess();
    nodeDir = await enrolNodeWithCli(fx, 'site-a', path.join(fx.dir, 'site-a'));
    const config = path.join(nodeDir, 'node.yaml');
    fs.writeFileSync(
      config,
      fs.readFileSync(config, 'utf8').replace('anchorInterval: 60s', 'anchorInterval: 400ms'),
    );
    const node = spawnCli(['node', 'start', '--dir', nodeDir], path.join(fx.dir, 'site-a.log'));
    await waitFor('two anchors at the coordinator', 20_000, async () => {
      const store = new SqliteAuditLogStore(path.join(dataDir(), 'audit-log.db'), { forReading: true });
      const anchors = (await store.all()).filter((e) => e.event === 'anchor').length;
      store.close();
      return anchors >= 2 ? true : undefined;
    });
    node.kill('SIGTERM');
    expect(await exited(node)).toEqual({ code: 0, signal: null });
  });
  afterAll(() => fx.stop());

  it('records what left the site and what the coordinator did, and both verify with their anchors', async () => {
    const site = await new SqliteAuditLogStore(path.join(nodeDir, 'audit-log.db'), {
      forReading: true,
    }).all();
    expect(site[0]).toMatchObject({ seq: '1', event: 'genesis', actor: 'site-a' });
    expect(site.find((e) => e.kind === 'Enrolment/Enroll')).toMatchObject({
      event: 'egress',
      peer: 'coordinator',
    });
    expect(site.filter((e) => e.kind === 'NodeSession/Heartbeat').length).toBeGreaterThan(0);
    expect(
      site
        .filter((e) => e.event === 'egress')
        .every((e) => /^[0-9a-f]{64}$/.test(e.sha256) && Number(e.bytes) >= 0),
    ).toBe(true);
    const events = (
      await new SqliteAuditLogStore(path.join(dataDir(), 'audit-log.db'), { forReading: true }).all()
    ).map((e) => `${e.event}:${e.peer}`);
    expect(events).toEqual(
      expect.arrayContaining(['genesis:', 'admin:site-a', 'enrolment:site-a', 'anchor:site-a']),
    );
    const { code, result } = await verify('--node-dir', nodeDir, '--coordinator-data', dataDir());
    expect(code).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.anchorsChecked).toBeGreaterThanOrEqual(4);
  });

  it('names the entry and field of an altered site log', async () => {
    const dir = copyOf(nodeDir, 'altered');
    const db = new Database(path.join(dir, 'audit-log.db'));
    db.prepare("UPDATE audit_log SET bytes = '1' WHERE seq = 3").run();
    db.close();
    const { code, result } = await verify('--node-dir', dir);
    expect(code).toBe(1);
    expect(result.logs[0]?.problem).toMatchObject({ seq: '3', field: 'hash' });
    // Repeating --node-dir checks every directory given, not only the last one.
    const several = await verify('--node-dir', dir, '--node-dir', nodeDir);
    expect(several.code).toBe(1);
    expect(several.result.logs).toHaveLength(2);
    expect(several.result.logs[0]?.problem).toMatchObject({ seq: '3', field: 'hash' });
    expect(several.result.logs[1]?.problem).toBeFalsy();
  });

  it('detects a deleted coordinator entry, and a site log rebuilt from scratch with its own key', async () => {
    const data = copyOf(dataDir(), 'deleted');
    const db = new Database(path.join(data, 'audit-log.db'));
    db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    db.close();
    expect((await verify('--coordinator-data', data)).result.logs[0]?.problem).toMatchObject({
      seq: '3',
      field: 'seq',
    });

    // The site rewrites history: a fresh log with fewer heartbeats, consistent and signed by its
    // own key. Alone it verifies; against the coordinator's anchors it does not.
    const dir = copyOf(nodeDir, 'rebuilt');
    fs.rmSync(path.join(dir, 'audit-log.db'));
    const store = new SqliteAuditLogStore(path.join(dir, 'audit-log.db'));
    const chain = new AuditChain(store, 'site-a', readSiteKeyFile(path.join(dir, 'site.key')));
    for (let i = 0; i < 20; i += 1)
      await chain.append({ event: 'egress', kind: 'NodeSession/Heartbeat', peer: 'coordinator', bytes: '7' });
    store.close();
    expect((await verify('--node-dir', dir)).result.ok).toBe(true);
    const both = await verify('--node-dir', dir, '--coordinator-data', dataDir());
    expect(both.code).toBe(1);
    expect(both.result.anchorProblems[0]).toMatchObject({ log: 'site-a', field: 'hash' });
  });

  it('writes reports a privacy officer can read, and exports JSON Lines', async () => {
    const html = path.join(fx.dir, 'report.html');
    expect(
      (await cli(['audit', 'report', '--node-dir', nodeDir, '--format', 'html', '--out', html])).code,
    ).toBe(0);
    expect(fs.readFileSync(html, 'utf8')).toContain('Log verified');
    const md = await cli(['audit', 'report', '--node-dir', nodeDir]);
    expect(md.stdout).toContain('## What left this site');
    // The coordinator's log is reported as what it records: no "0 messages left this site".
    const coordinator = await cli(['audit', 'report', '--coordinator-data', dataDir()]);
    expect(coordinator.stdout).toContain("## What this log records\n\nThis is the coordinator's log");
    expect(coordinator.stdout).not.toContain('What left this site');
    expect(coordinator.stdout).not.toContain('Epsilon spent');
    const jsonl = path.join(fx.dir, 'site.jsonl');
    await cli(['audit', 'export', '--node-dir', nodeDir, '--out', jsonl]);
    expect((await verify(jsonl, '--coordinator-data', dataDir())).result.ok).toBe(true);
    const bad = await cli(['audit', 'report', '--node-dir', nodeDir, '--format', 'pdf']);
    expect(bad.stderr).toContain("--format 'pdf' must be md, json or html");
  });

  it('keeps a verifiable transcript through a coordinator crash', async () => {
    fx.process.kill('SIGKILL');
    await exited(fx.process);
    const { result } = await verify('--coordinator-data', dataDir());
    expect(result.ok).toBe(true);
    expect(result.logs[0]?.entries).toBeGreaterThan(4);
  });
});
