import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { RoundView } from '../../apps/coordinator/src/rounds/round-view';
import { exited, waitFor } from '../e2e/support/processes';
import { FaultFederation, HONEST, SITES } from './support/federation';
import { LoopDisk } from './support/loop-disk';
import { outcome, writeRows } from './support/rounds';

const FEDERATION = 'disks';
const RESULTS = path.join(__dirname, '..', '..', 'tmp', 'fault-matrix', 'disks.md');

/**
 * The fault matrix's disk cases at the coordinator and at a node (issue 15): the coordinator's
 * data directory (SQLite store and transcript) and site-d's node directory each live on an ext4
 * disk of their own (test/faults/support/loop-disk.ts), which a case fills or turns read-only in
 * the middle of a round. Each case asserts its stated outcome and the matrix's invariants: a
 * site is charged for a round if and only if its input is in the round's sum, and at the end
 * every audit log verifies. Needs root and a loop device; elsewhere each case says why it did
 * not run.
 */
jest.setTimeout(600_000);

describe('fault matrix: disks (coordinator and node, full and read-only)', () => {
  let coordinatorDisk: LoopDisk | string = 'not set up';
  let nodeDisk: LoopDisk | string = 'not set up';
  const rows: { fault: string; expected: string; observed: string }[] = [];
  const fed = new FaultFederation({
    id: FEDERATION,
    // The coordinator's data directory moves onto a disk of its own before anyone enrols.
    afterCoordinatorStart: async (fx) => {
      const data = path.join(fx.dir, 'data');
      fx.process.kill('SIGTERM');
      await exited(fx.process);
      const staged = `${data}.staged`;
      fs.renameSync(data, staged);
      coordinatorDisk = LoopDisk.create(path.join(fx.dir, 'coordinator-disk.img'), data);
      if (typeof coordinatorDisk === 'string') fs.renameSync(staged, data);
      else {
        fs.cpSync(staged, data, { recursive: true });
        fs.rmSync(staged, { recursive: true });
      }
      nodeDisk = LoopDisk.create(path.join(fx.dir, 'site-d-disk.img'), path.join(fx.dir, 'site-d-disk'));
      await fx.restart();
    },
    nodeDir: (site, fx) =>
      site === 'site-d' && typeof nodeDisk !== 'string'
        ? path.join(nodeDisk.mountPoint, 'node')
        : path.join(fx.dir, 'sites', site),
  });
  const fx = () => fed.fx;

  beforeAll(() => fed.start(), 900_000);

  afterAll(async () => {
    writeRows(RESULTS, rows);
    await fed.stop(() => {
      for (const d of [coordinatorDisk, nodeDisk]) if (typeof d !== 'string') d.dispose();
    });
  });

  /** The coordinator's database opens and passes SQLite's integrity check. */
  function databaseIntact(): string {
    const db = new Database(fx().dbFile, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('PRAGMA integrity_check').pluck().get() as string) ?? 'no answer';
    } finally {
      db.close();
    }
  }

  const coordinatorLog = () => fs.readFileSync(fx().logFile, 'utf8');

  /**
   * A round loses the coordinator's disk (`fault`) once every site sent its keys, and stays that
   * way until the coordinator has both refused a site's message and failed to close a stage whose
   * deadline passed (each named in its log). While it lasts, nothing moves: each site's message
   * is answered UNAVAILABLE (the sites retry) and each close is undone and retried. `recover`
   * gives the disk back; `whileRunning` says whether that can happen under the running
   * coordinator (a disk freed) or needs it stopped (a read-only disk repaired). The coordinator
   * is then restarted on the same data: its database must pass SQLite's integrity check, the
   * round must end, and the next round must complete with everyone.
   */
  async function coordinatorDiskFault(fault: () => void, recover: () => void, whileRunning: boolean) {
    const n = await fed.rounds.open();
    await fed.rounds.until(`every key in round ${n}`, n, (r) => r.keysFrom.length === SITES.length);
    const logStart = coordinatorLog().length;
    fault();
    const log = await waitFor(
      'the coordinator to refuse a message and fail to close a stage',
      120_000,
      () => {
        const text = coordinatorLog().slice(logStart);
        return /request answered UNAVAILABLE/.test(text) && /round deadline check failed/.test(text)
          ? text
          : undefined;
      },
    );
    // Nothing moved: the round is where the disk left it.
    const held = (await fed.rounds.view(n))!;
    expect(held.status).toBe('open');
    expect(fx().process.exitCode).toBeNull();
    let ended: RoundView | undefined;
    if (whileRunning) {
      recover();
      ended = await fed.rounds.finished(n);
      await fx().restart();
    } else {
      fx().process.kill('SIGKILL');
      await exited(fx().process);
      recover();
      await fx().restart();
    }
    const integrity = databaseIntact();
    expect(integrity).toBe('ok');
    const after = await fed.rounds.finished(n);
    if (ended) expect(after.status).toBe(ended.status);
    const charges = fed.rounds.checkCharges(after, fed.dirs);
    await fed.rounds.online(SITES.length);
    const next = await fed.roundToEnd();
    expect(next.status).toBe('completed');
    expect([...next.inputsFrom].sort()).toEqual([...SITES]);
    return { n, held, log, integrity, after, charges, next };
  }

  it("coordinator's disk full mid-round: a clear error, nothing moves until it is freed, then the round ends; nothing corrupted", async () => {
    if (typeof coordinatorDisk === 'string') {
      rows.push({ fault: "coordinator's disk full", expected: '-', observed: `not run: ${coordinatorDisk}` });
      return;
    }
    const disk = coordinatorDisk;
    const r = await coordinatorDiskFault(
      () => disk.fill(),
      () => disk.free(),
      true,
    );
    expect(r.log).toMatch(/database or disk is full/);
    rows.push({
      fault:
        "coordinator's disk full mid-round (after the keys), freed under the running coordinator, then restarted",
      expected:
        "while full: the log names the cause (SQLITE_FULL), sites' messages answered UNAVAILABLE (they retry), no stage closes (each close undone, retried); once freed the open stage gets its length again (the refused sites get in) and the round ends; charged iff in the sum; the database passes its integrity check after a restart; the next round completes",
      observed: `held at stage ${r.held.stage} with keys from ${r.held.keysFrom.length}, shares from ${r.held.sharesFrom.length}; ${outcome(r.after)}; ${r.charges}; integrity ${r.integrity}; next round ${outcome(r.next)}`,
    });
  });

  it("coordinator's disk read-only mid-round: a clear error, nothing moves; repaired and restarted, the round ends; nothing corrupted", async () => {
    if (typeof coordinatorDisk === 'string') {
      rows.push({
        fault: "coordinator's disk read-only",
        expected: '-',
        observed: `not run: ${coordinatorDisk}`,
      });
      return;
    }
    const disk = coordinatorDisk;
    let fsck = -1;
    const r = await coordinatorDiskFault(
      () => disk.failReadOnly(),
      () => (fsck = disk.repair()),
      false,
    );
    expect(r.log).toMatch(/readonly|read-only|disk I\/O error/i);
    rows.push({
      fault:
        "coordinator's disk read-only mid-round (after the keys; ext4 emergency remount), coordinator stopped, disk repaired (e2fsck), restarted",
      expected:
        "while read-only: the log names the cause, sites' messages answered UNAVAILABLE, no stage closes; after the repair and restart the round resumes (its open stage gets its full length again) and ends; charged iff in the sum; integrity check passes; the next round completes",
      observed: `held at stage ${r.held.stage} with keys from ${r.held.keysFrom.length}, shares from ${r.held.sharesFrom.length}; e2fsck ${fsck}; ${outcome(r.after)}; ${r.charges}; integrity ${r.integrity}; next round ${outcome(r.next)}`,
    });
  });

  it("node's disk read-only mid-round: it sends nothing it cannot record, the round completes without it, and it recovers", async () => {
    if (typeof nodeDisk === 'string') {
      rows.push({ fault: "node's disk read-only", expected: '-', observed: `not run: ${nodeDisk}` });
      return;
    }
    const disk = nodeDisk;
    const ledgerFile = path.join(fed.dirs['site-d']!, 'privacy-ledger.json');
    const ledgerBefore = fs.readFileSync(ledgerFile, 'utf8');
    const logStart = fs.readFileSync(fed.logFile('site-d'), 'utf8').length;
    const n = await fed.rounds.open();
    await fed.rounds.until(`site-d's keys in round ${n}`, n, (r) => r.keysFrom.includes('site-d'));
    disk.failReadOnly();
    const r = await fed.rounds.finished(n);
    const log = fs.readFileSync(fed.logFile('site-d'), 'utf8').slice(logStart);
    expect(r.status).toBe('completed');
    expect([...r.inputsFrom].sort()).toEqual(HONEST);
    expect(log).toMatch(/EROFS|read-only|SQLITE_READONLY|SQLITE_IOERR/i);
    expect(fs.readFileSync(ledgerFile, 'utf8')).toBe(ledgerBefore);
    const charges = fed.rounds.checkCharges(r, fed.dirs);
    const exitedOnItsOwn = fed.ended('site-d');
    await fed.stopNode('site-d');
    const fsck = disk.repair();
    fed.startNode('site-d');
    await fed.rounds.online(SITES.length);
    const next = await fed.roundToEnd();
    expect([...next.inputsFrom].sort()).toEqual([...SITES]);
    rows.push({
      fault: "node's disk read-only mid-round (after its keys), repaired, node restarted",
      expected:
        'site-d sends no input it cannot record; round completes with 3; its ledger unchanged; it answers once repaired',
      observed: `${outcome(r)}; ${charges}; ledger unchanged; node ${exitedOnItsOwn ? 'exited' : 'kept running'}; e2fsck ${fsck}; next round ${outcome(next)}`,
    });
  });

  it('every audit log verifies after all of it', async () => {
    rows.push({
      fault: '(after every disk case above)',
      expected: "the coordinator's transcript and every node's egress log verify, anchors included",
      observed: await fed.verifyLogs(),
    });
  });
});
