import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { type AuditEntry, AuditChain, MemoryAuditLogStore, SqliteAuditLogStore } from '@fedistill/audit';
import { generateSiteKeys, writeSiteKeyFile } from '@fedistill/identity';
import type { VerificationResult } from '../audit/verify-logs';
import { registerAuditCommand } from './audit.command';

async function run(args: string[]): Promise<{ out: string; exitCode: number }> {
  const program = new Command('fedistill').exitOverride().configureOutput({ writeErr: () => undefined });
  registerAuditCommand(program);
  program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride()));
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'fedistill', 'audit', 'verify', ...args]);
    return { out, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    spy.mockRestore();
    process.exitCode = before;
  }
}

describe('registerAuditCommand: audit verify', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-audit-cmd-'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A node directory as `fedistill node` leaves it: site.key and audit-log.db, 6 entries. */
  async function nodeDir(name: string, change: (e: AuditEntry) => AuditEntry = (e) => e): Promise<string> {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    const keys = generateSiteKeys();
    writeSiteKeyFile(path.join(dir, 'site.key'), keys);
    const memory = new MemoryAuditLogStore();
    const chain = new AuditChain(memory, name, keys);
    for (let i = 0; i < 5; i += 1) await chain.append({ event: 'egress', bytes: String(i) });
    const store = new SqliteAuditLogStore(path.join(dir, 'audit-log.db'));
    for (const e of memory.entries) await store.append(change(e));
    store.close();
    return dir;
  }

  it('checks every --node-dir given, not only the last', async () => {
    const bad = await nodeDir('site-a', (e) => (e.seq === '3' ? { ...e, bytes: '999' } : e));
    const good1 = await nodeDir('site-b');
    const good2 = await nodeDir('site-c');
    const { out, exitCode } = await run([
      '--node-dir',
      bad,
      '--node-dir',
      good1,
      '--node-dir',
      good2,
      '--json',
    ]);
    const sut = JSON.parse(out) as VerificationResult;
    expect(exitCode).toBe(1);
    expect(sut.ok).toBe(false);
    expect(sut.logs.map((l) => [l.source, l.ok])).toEqual([
      [bad, false],
      [good1, true],
      [good2, true],
    ]);
    expect(sut.logs[0]?.problem).toMatchObject({ log: 'site-a', seq: '3', field: 'hash' });
  });

  it("--full checks every entry's signature, which the default leaves to the head's", async () => {
    // A signature field is not part of what is hashed: replacing one before the head leaves the
    // content, the chain and the head's signature intact.
    const dir = await nodeDir('site-d', (e) =>
      e.seq === '3' ? { ...e, signature: Buffer.alloc(64, 1).toString('base64') } : e,
    );
    const quick = await run(['--node-dir', dir]);
    expect(quick.exitCode).toBe(0);
    expect(quick.out).toMatch(/^OK {6}site-d: 6 entries, head 6, .*\(chain and head signature; /);
    const full = await run(['--node-dir', dir, '--full']);
    expect(full.exitCode).toBe(1);
    expect(full.out).toContain("FAILED  site-d: entry 3 (position 3), field 'signature'");
    const json = JSON.parse((await run(['--node-dir', dir, '--full', '--json'])).out) as VerificationResult;
    expect(json.logs[0]).toMatchObject({ ok: false, signatures: 'every' });
  });

  it('names a --node-dir that holds no log, changing nothing', async () => {
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    await expect(run(['--node-dir', empty])).rejects.toThrow(
      `${path.join(empty, 'audit-log.db')} does not exist`,
    );
    expect(fs.readdirSync(empty)).toEqual([]);
  });
});
