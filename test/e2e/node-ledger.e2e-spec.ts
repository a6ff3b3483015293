import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LEDGER_FILE, SiteLedger } from '../../apps/node/src/site-ledger';
import {
  type CoordinatorFixture,
  cli,
  enrolNodeWithCli,
  exited,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';

/** The built SiteLedger, as `fedistill node start` loads it. */
const DIST_LEDGER = path.resolve(__dirname, '..', '..', 'dist', 'apps', 'node', 'src', 'site-ledger.js');
const LIMITS = { epsilonLimit: 8, delta: 1e-5 };

/**
 * Runs a real node process that opens DIR's ledger and commits round `round`; with `killAtRename`
 * the process SIGKILLs itself at the instant the new ledger would be renamed over the old one
 * (after the temporary file was written and fsynced), as a power cut or kill -9 could.
 */
function commitInChild(dir: string, round: number, killAtRename: boolean): Promise<NodeJS.Signals | null> {
  const script = `
    const fs = require('node:fs');
    if (${killAtRename}) fs.renameSync = () => process.kill(process.pid, 'SIGKILL');
    const { SiteLedger } = require(${JSON.stringify(DIST_LEDGER)});
    SiteLedger.open(${JSON.stringify(dir)}, ${JSON.stringify(LIMITS)}).then((ledger) => {
      ledger.commit({ label: 'fed#${round}', count: 1, mechanism: { kind: 'skellam', mu: 400, l2: 2, l1: 4 } });
      ledger.close();
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('the site ledger across processes (issue 11, finding 7)', () => {
  it('a node killed between writing and renaming the ledger leaves the old ledger in force', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-ledger-kill-'));
    try {
      expect(await commitInChild(dir, 1, false)).toBeNull();
      const before = SiteLedger.read(dir, LIMITS);
      expect(before.entries.map((e) => e.label)).toEqual(['fed#1']);
      expect(await commitInChild(dir, 2, true)).toBe('SIGKILL');
      // The dead process left its lock and its temporary file behind.
      expect(fs.existsSync(path.join(dir, `${LEDGER_FILE}.tmp`))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'node.lock'))).toBe(true);
      const after = await SiteLedger.open(dir, LIMITS);
      expect(after.spent).toBe(before.spent);
      expect(after.entries.map((e) => e.label)).toEqual(['fed#1']);
      after.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a second `node start` on one node directory', () => {
    let fx: CoordinatorFixture;
    let dir: string;
    let first: ReturnType<typeof spawnCli>;

    beforeAll(async () => {
      fx = await startCoordinatorProcess();
      dir = await enrolNodeWithCli(fx, 'st-marys');
      first = spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, 'st-marys-1.log'));
      await waitFor('the first node to hold its directory', 30_000, () =>
        fs.existsSync(path.join(dir, 'node.lock')) ? true : undefined,
      );
    });
    afterAll(async () => {
      if (first.exitCode === null) first.kill('SIGKILL');
      await fx.stop();
    });

    it('fails at once, naming the directory and the pid that holds it', async () => {
      const started = Date.now();
      const second = await cli(['node', 'start', '--dir', dir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`node directory ${dir} is in use by process ${first.pid}`);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(first.exitCode).toBeNull();
    });

    it('shows the ledger while the node runs, refuses to rebuild it, and frees the directory on stop', async () => {
      const show = await cli(['node', 'ledger', 'show', '--dir', dir, '--json']);
      expect(show.code).toBe(0);
      expect(JSON.parse(show.stdout)).toMatchObject({ exists: false, spent: 0, entries: [] });
      const rebuild = await cli(['node', 'ledger', 'rebuild', '--dir', dir]);
      expect(rebuild.code).toBe(1);
      expect(rebuild.stderr).toContain(`is in use by process ${first.pid}`);
      first.kill('SIGTERM');
      await exited(first);
      expect(fs.existsSync(path.join(dir, 'node.lock'))).toBe(false);
    });
  });
});
