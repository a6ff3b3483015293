import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DemoSplit, splitBreastCancer } from '../../apps/cli/src/demo/demo-data';
import type { RoundView } from '../../apps/coordinator/src/rounds/round-view';
import {
  admin,
  cli,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  freePort,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from '../e2e/support/processes';
import { createBreastCancerFederation, prepareSiteNode, uploadReference } from '../e2e/support/site-nodes';
import { FederationRounds, outcome, writeRows } from './support/rounds';

const REPO = path.resolve(__dirname, '..', '..');
const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const HONEST = ['site-a', 'site-b', 'site-c'];
const FEDERATION = 'faults';
const RESULTS = path.join(REPO, 'tmp', 'fault-matrix', 'processes.md');

interface Row {
  readonly fault: string;
  readonly expected: string;
  readonly observed: string;
}

/**
 * The crash and fault matrix of issue 15, with real processes over TLS: one coordinator, four
 * `fedistill node start` processes, a federation that tolerates one dropout (minSites 3). Each
 * case injects one fault into one round and asserts its stated outcome plus the invariants that
 * hold for every case:
 * - a completed round's sum holds exactly the masked inputs the coordinator accepted, and no
 *   accepted masked input is lost across a coordinator restart;
 * - a site's ledger is charged for a round if and only if its input is in that round's sum
 *   (a site is never charged for a round that released nothing from it);
 * - every audit log (the coordinator's transcript and each node's egress log) verifies at the end.
 *
 * Where the round waits is chosen with site-d: SIGSTOP holds it before its keys; node.yaml's
 * dropout drill holds it after its keys, shares or masked input. The coordinator is SIGKILLed
 * there and started again on the same data and port. Cases already covered by the e2e suite are
 * listed in docs/reliability.md with their test, not repeated here.
 *
 * Not part of `npm test` (it takes minutes): `npm run test:faults`, run by `.ci/run`. The table it
 * writes to tmp/fault-matrix/processes.md is the one in docs/reliability.md.
 */
// Each case restarts processes and waits out a stage deadline or two: minutes on a loaded machine.
jest.setTimeout(600_000);

describe('fault matrix (real processes, TLS, SIGKILL and a full disk)', () => {
  let fx: CoordinatorFixture;
  const nodes = new Map<string, ChildProcess>();
  const dirs: Record<string, string> = {};
  let split: DemoSplit;
  const rows: Row[] = [];
  let tmpfs: string | null = null;

  const startNode = (site: string): void => {
    nodes.set(site, spawnCli(['node', 'start', '--dir', dirs[site]!], path.join(fx.dir, `${site}.log`)));
  };
  const configure = (site: string, drill?: 'keys' | 'shares' | 'input'): void =>
    prepareSiteNode(dirs[site]!, split.hospitals[SITES.indexOf(site)]!, {
      teachers: { count: 4, hidden: [8], epochs: 10, batchSize: 8 },
      epsilonLimit: 1000,
      drill,
    });
  async function stopNode(site: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const node = nodes.get(site)!;
    node.kill(signal);
    await exited(node);
  }
  async function restartNode(site: string, drill?: 'keys' | 'shares' | 'input'): Promise<void> {
    await stopNode(site);
    configure(site, drill);
    startNode(site);
    await online(SITES.length);
  }

  const rounds = new FederationRounds(() => fx, FEDERATION);
  const online = (expected: number) => rounds.online(expected);
  const until = (what: string, n: number, ok: (r: RoundView) => boolean) => rounds.until(what, n, ok);
  const finished = (n: number) => rounds.finished(n);
  const openRound = () => rounds.open();
  const checkCharges = (r: RoundView) => rounds.checkCharges(r, dirs);

  beforeAll(async () => {
    fx = await startCoordinatorProcess({
      heartbeatInterval: '500ms',
      offlineAfter: '4s',
      grpcPort: await freePort(),
    });
    split = await splitBreastCancer(REPO, SITES.length);
    // site-d's node directory lives on a small tmpfs of its own, so that the full-disk case can
    // fill exactly that disk (root only; elsewhere the case says why it did not run).
    const mount = path.join(fx.dir, 'site-d-disk');
    fs.mkdirSync(mount);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mount], { stdio: 'pipe' });
      tmpfs = mount;
    } catch {
      tmpfs = null;
    }
    for (const site of SITES) {
      dirs[site] = await enrolNodeWithCli(
        fx,
        site,
        site === 'site-d' && tmpfs ? path.join(tmpfs, 'node') : path.join(fx.dir, 'sites', site),
      );
      configure(site);
      startNode(site);
    }
    await createBreastCancerFederation(fx, {
      id: FEDERATION,
      referenceSha256: await uploadReference(fx, split.reference),
      members: SITES,
      dirs,
      noiseMultiplier: 1.5,
      dropoutTolerance: 1,
      rounds: {
        minSites: 3,
        maxRounds: 20,
        queriesPerRound: 10,
        deadlines: { advertiseKeys: '15s', shareKeys: '10s', maskedInput: '15s', unmask: '10s' },
      },
    });
    await online(SITES.length);
  }, 900_000);

  afterAll(async () => {
    for (const n of nodes.values()) {
      n.kill('SIGCONT');
      n.kill('SIGTERM');
    }
    await Promise.all([...nodes.values()].map((n) => exited(n)));
    writeRows(RESULTS, rows);
    if (tmpfs) execFileSync('umount', ['-l', tmpfs], { stdio: 'ignore' });
    await fx.stop();
  });

  /** Kills the coordinator (SIGKILL) where `at` holds, restarts it, and returns the finished round. */
  async function coordinatorKilled(at: string, ready: (r: RoundView) => boolean) {
    const n = await openRound();
    const before = await until(`round ${n} ${at}`, n, ready);
    await fx.restart();
    const after = await finished(n);
    // No masked input the coordinator had accepted before it died is lost.
    for (const s of before.inputsFrom) expect(after.inputsFrom).toContain(s);
    return { n, before, after };
  }

  it('coordinator SIGKILLed at the key stage (site-d frozen before its keys): completes with the other three', async () => {
    nodes.get('site-d')!.kill('SIGSTOP');
    const { after } = await coordinatorKilled(
      'at the key stage with three keys',
      (r) => r.stage === 'keys' && HONEST.every((s) => r.keysFrom.includes(s)),
    );
    nodes.get('site-d')!.kill('SIGCONT');
    expect(after.status).toBe('completed');
    expect([...after.inputsFrom].sort()).toEqual(HONEST);
    rows.push({
      fault: 'coordinator SIGKILLed at the key stage, restarted',
      expected: 'resumes; completes with the 3 sites that sent keys; site-d (frozen) not charged',
      observed: `${outcome(after)}; ${checkCharges(after)}`,
    });
    await online(SITES.length);
  });

  it('coordinator SIGKILLed at the masked-input stage (site-d stops after its shares): completes with the other three', async () => {
    await restartNode('site-d', 'shares');
    const { before, after } = await coordinatorKilled(
      'at the input stage with all shares',
      (r) => r.stage === 'inputs' && r.sharesFrom.length === SITES.length,
    );
    expect(after.status).toBe('completed');
    expect([...after.inputsFrom].sort()).toEqual(HONEST);
    rows.push({
      fault: 'coordinator SIGKILLed at the masked-input stage, restarted',
      expected: 'resumes; accepted inputs kept; completes with 3; site-d (sent shares only) not charged',
      observed: `${before.inputsFrom.length} inputs accepted before the kill; ${outcome(after)}; ${checkCharges(after)}`,
    });
  });

  it('coordinator SIGKILLed after every masked input (site-d stops after its input): completes with all four', async () => {
    await restartNode('site-d', 'input');
    const { after } = await coordinatorKilled(
      'past the input stage with four inputs',
      (r) => r.inputsFrom.length === SITES.length && r.stage !== 'inputs',
    );
    expect(after.status).toBe('completed');
    expect([...after.inputsFrom].sort()).toEqual(SITES);
    rows.push({
      fault: 'coordinator SIGKILLed at the consistency/unmask stage, restarted',
      expected:
        "resumes; completes with all 4 (the others reveal what removes site-d's masks); all 4 charged",
      observed: `${outcome(after)}; ${checkCharges(after)}`,
    });
  });

  it('coordinator SIGKILLed while it trains the student: the student is published once after the restart', async () => {
    await restartNode('site-d');
    const n = await openRound();
    const done = await finished(n);
    expect(done.status).toBe('completed');
    // Kill at once: the student of this round is being trained or was just published.
    await fx.restart();
    const students = await waitFor(`a student covering round ${n}`, 90_000, async () => {
      const { body } = await admin<{ students: { version: number; rounds: number[]; sha256: string }[] }>(
        fx,
        'GET',
        `/api/v1/federations/${FEDERATION}/students`,
      );
      return body.students.some((s) => s.rounds.includes(n)) ? body.students : undefined;
    });
    const covering = students.filter((s) => s.rounds.at(-1) === n);
    expect(covering).toHaveLength(1);
    const student = covering[0]!;
    // Every node downloads it and verifies its digest.
    for (const site of SITES) {
      const file = path.join(
        dirs[site]!,
        'federations',
        FEDERATION,
        'students',
        `v${student.version}`,
        'student.json',
      );
      const record = await waitFor(`${site} to verify student v${student.version}`, 90_000, () =>
        fs.existsSync(file)
          ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { verified: boolean })
          : undefined,
      );
      expect(record.verified).toBe(true);
    }
    rows.push({
      fault:
        'coordinator SIGKILLed right after a round completed (student training or publication), restarted',
      expected: 'the student covering the round is published exactly once; every site verifies its digest',
      observed: `${outcome(done)}; ${covering.length} student (v${student.version}) covers round ${n}; ${SITES.length} sites verified it; ${checkCharges(done)}`,
    });
  });

  it('node SIGKILLed after its shares, restarted: the round completes without it, uncharged; it answers the next', async () => {
    await restartNode('site-d', 'shares');
    const n = await openRound();
    await until(`site-d's shares in round ${n}`, n, (r) => r.sharesFrom.includes('site-d'));
    await stopNode('site-d', 'SIGKILL');
    const r = await finished(n);
    expect(r.status).toBe('completed');
    expect([...r.inputsFrom].sort()).toEqual(HONEST);
    const chargedAfterKill = checkCharges(r);
    configure('site-d');
    startNode('site-d');
    await online(SITES.length);
    const next = await openRound();
    const r2 = await finished(next);
    expect([...r2.inputsFrom].sort()).toEqual(SITES);
    rows.push({
      fault: 'node SIGKILLed after sending its shares, restarted',
      expected:
        'round completes with the other 3; site-d not charged; the restarted node answers the next round',
      observed: `${outcome(r)}; ${chargedAfterKill}; next round ${outcome(r2)}; ${checkCharges(r2)}`,
    });
  });

  it("node's disk full: it sends nothing it could not record, the round completes without it, and it recovers", async () => {
    if (!tmpfs) {
      rows.push({
        fault: "node's disk full",
        expected: 'the node sends nothing it cannot log; round completes without it',
        observed: 'not run: mounting a tmpfs needs root (CI runs as root)',
      });
      return;
    }
    const ledgerBefore = fs.readFileSync(path.join(dirs['site-d']!, 'privacy-ledger.json'), 'utf8');
    // Fill site-d's disk to the last byte.
    const filler = path.join(tmpfs, 'filler');
    const chunk = Buffer.alloc(1 << 20);
    const fd = fs.openSync(filler, 'w');
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    const tail = Buffer.alloc(4096);
    try {
      for (;;) fs.appendFileSync(filler, tail.subarray(0, 512));
    } catch {
      // full
    }
    const n = await openRound();
    const r = await finished(n);
    const log = fs.readFileSync(path.join(fx.dir, 'site-d.log'), 'utf8');
    expect(r.status).toBe('completed');
    expect(r.inputsFrom).not.toContain('site-d');
    expect(log).toMatch(/ENOSPC|no space left|SQLITE_FULL|disk is full/i);
    // Nothing half-written: the ledger is byte for byte what it was.
    expect(fs.readFileSync(path.join(dirs['site-d']!, 'privacy-ledger.json'), 'utf8')).toBe(ledgerBefore);
    const chargedFull = checkCharges(r);
    fs.rmSync(filler);
    // Restarted (or still running), site-d answers again once the disk has room.
    const node = nodes.get('site-d')!;
    const exitedOnItsOwn = node.exitCode !== null || node.signalCode !== null;
    if (exitedOnItsOwn) startNode('site-d');
    else await restartNode('site-d');
    await online(SITES.length);
    const next = await openRound();
    const r2 = await finished(next);
    expect([...r2.inputsFrom].sort()).toEqual(SITES);
    rows.push({
      fault: "node's disk full during a round, then freed",
      expected:
        'site-d sends no input it cannot record; round completes with 3; its ledger unchanged; it answers once freed',
      observed: `${outcome(r)}; ${chargedFull}; ledger unchanged; node ${exitedOnItsOwn ? 'exited with' : 'logged'} ENOSPC; next round ${outcome(r2)}`,
    });
  });

  it('every audit log verifies after all of it', async () => {
    // Stop the nodes first so that their logs are complete on disk.
    for (const site of SITES) await stopNode(site);
    const args = ['audit', 'verify', '--json', '--coordinator-data', path.join(fx.dir, 'data')];
    for (const site of SITES) args.push('--node-dir', dirs[site]!);
    const res = await cli(args);
    const result = JSON.parse(res.stdout) as {
      ok: boolean;
      logs: { ok: boolean; actor: string; entries: number }[];
    };
    expect(res.code).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.logs).toHaveLength(SITES.length + 1);
    rows.push({
      fault: '(after every case above)',
      expected: "the coordinator's transcript and every node's egress log verify, anchors included",
      observed: `${result.logs.length} logs verified (${result.logs.map((l) => `${l.actor} ${l.entries}`).join(', ')})`,
    });
  });
});
