import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { type DemoSplit, splitBreastCancer } from '../../apps/cli/src/demo/demo-data';
import {
  admin,
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
const url = process.env.FEDISTILL_TEST_POSTGRES_URL;
const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const HONEST = ['site-a', 'site-b', 'site-c'];
const FEDERATION = 'on-postgres';
const RESULTS = path.join(REPO, 'tmp', 'fault-matrix', 'postgres.md');

/** The local PostgreSQL cluster's `pg_ctlcluster` arguments, or why it cannot be restarted here. */
function localCluster(): { args: string[] } | { why: string } {
  if (!url || !/@(127\.0\.0\.1|localhost)[:/]/.test(url))
    return { why: 'the database is not on this machine' };
  if (process.getuid?.() !== 0) return { why: 'restarting PostgreSQL needs root (CI runs as root)' };
  try {
    const line = execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
    const [version, cluster] = line.split(/\s+/);
    return version && cluster ? { args: [version, cluster] } : { why: 'pg_lsclusters lists no cluster' };
  } catch {
    return { why: 'no pg_ctlcluster (Debian postgresql-common) on this machine' };
  }
}

jest.setTimeout(600_000);

/**
 * Rounds with real node processes on a coordinator that keeps its state in PostgreSQL (the
 * production store), and the two outages that store adds: the coordinator SIGKILLed mid-round
 * (resumed from PostgreSQL), and PostgreSQL itself restarted under a running coordinator while a
 * round waits for masked inputs. Needs FEDISTILL_TEST_POSTGRES_URL (.ci/run sets it).
 */
(url ? describe : describe.skip)(
  'rounds on PostgreSQL, and PostgreSQL restarted under the coordinator',
  () => {
    let fx: CoordinatorFixture;
    const schema = `faults_${randomBytes(5).toString('hex')}`;
    const nodes = new Map<string, ChildProcess>();
    const dirs: Record<string, string> = {};
    let split: DemoSplit;
    const rows: Array<{ fault: string; expected: string; observed: string }> = [];
    const rounds = new FederationRounds(() => fx, FEDERATION);

    const startNode = (site: string) =>
      nodes.set(site, spawnCli(['node', 'start', '--dir', dirs[site]!], path.join(fx.dir, `${site}.log`)));
    const configure = (site: string, drill?: 'keys' | 'shares') =>
      prepareSiteNode(dirs[site]!, split.hospitals[SITES.indexOf(site)]!, {
        teachers: { count: 4, hidden: [8], epochs: 10, batchSize: 8 },
        epsilonLimit: 1000,
        drill,
      });
    async function restartNode(site: string, drill?: 'keys' | 'shares'): Promise<void> {
      const node = nodes.get(site)!;
      node.kill('SIGTERM');
      await exited(node);
      configure(site, drill);
      startNode(site);
      await rounds.online(SITES.length);
    }

    beforeAll(async () => {
      fx = await startCoordinatorProcess({
        database: { url: url ?? '', schema },
        grpcPort: await freePort(),
        heartbeatInterval: '500ms',
        offlineAfter: '4s',
      });
      split = await splitBreastCancer(REPO, SITES.length);
      for (const site of SITES) {
        dirs[site] = await enrolNodeWithCli(fx, site);
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
          queriesPerRound: 10,
          deadlines: { advertiseKeys: '15s', shareKeys: '10s', maskedInput: '15s', unmask: '10s' },
        },
      });
      await rounds.online(SITES.length);
    }, 900_000);

    afterAll(async () => {
      for (const n of nodes.values()) n.kill('SIGTERM');
      await Promise.all([...nodes.values()].map((n) => exited(n)));
      writeRows(RESULTS, rows);
      await fx.stop();
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });

    it('a round answered by four node processes completes on PostgreSQL and publishes a student', async () => {
      const n = await rounds.open();
      const r = await rounds.finished(n);
      expect(r.status).toBe('completed');
      expect([...r.inputsFrom].sort()).toEqual(SITES);
      const student = await waitFor('a student on PostgreSQL', 90_000, async () => {
        const { body } = await admin<{ students: { version: number; rounds: number[] }[] }>(
          fx,
          'GET',
          `/api/v1/federations/${FEDERATION}/students`,
        );
        return body.students.find((s) => s.rounds.includes(n));
      });
      rows.push({
        fault: '(none) a round on PostgreSQL with 4 node processes',
        expected: 'completes; student published; each site charged once',
        observed: `${outcome(r)}; student v${student.version}; ${rounds.checkCharges(r, dirs)}`,
      });
    });

    it('coordinator SIGKILLed at the share stage on PostgreSQL: resumed from the database, completes', async () => {
      await restartNode('site-d', 'keys');
      const n = await rounds.open();
      await rounds.until(
        `round ${n} at the share stage`,
        n,
        (r) => r.stage === 'shares' && r.keysFrom.length === SITES.length,
      );
      await fx.restart();
      const r = await rounds.finished(n);
      expect(r.status).toBe('completed');
      expect([...r.inputsFrom].sort()).toEqual(HONEST);
      rows.push({
        fault: 'coordinator on PostgreSQL SIGKILLed at the share stage, restarted',
        expected: 'resumes from PostgreSQL; completes with the 3 that shared; site-d (keys only) not charged',
        observed: `${outcome(r)}; ${rounds.checkCharges(r, dirs)}`,
      });
    });

    it('PostgreSQL restarted while a round waits for masked inputs: the coordinator rides it out and the round completes', async () => {
      const cluster = localCluster();
      if ('why' in cluster) {
        rows.push({
          fault: 'PostgreSQL restarted under the coordinator',
          expected: 'round completes',
          observed: `not run: ${cluster.why}`,
        });
        return;
      }
      await restartNode('site-d', 'shares');
      const n = await rounds.open();
      const before = await rounds.until(
        `round ${n} at the input stage`,
        n,
        (r) => r.stage === 'inputs' && r.sharesFrom.length === SITES.length,
      );
      execFileSync('pg_ctlcluster', [...cluster.args, 'restart'], { stdio: 'pipe' });
      const r = await rounds.finished(n);
      expect(fx.process.exitCode).toBeNull();
      expect({ status: r.status, reason: r.reason }).toEqual({ status: 'completed', reason: null });
      expect([...r.inputsFrom].sort()).toEqual(HONEST);
      for (const s of before.inputsFrom) expect(r.inputsFrom).toContain(s);
      const log = fs.readFileSync(fx.logFile, 'utf8');
      rows.push({
        fault: 'PostgreSQL restarted (pg_ctlcluster restart) while a round waits for masked inputs',
        expected: 'the coordinator stays up; accepted inputs kept; completes with the 3 that sent inputs',
        observed: `coordinator still running; ${outcome(r)}; ${rounds.checkCharges(r, dirs)}; ${
          (log.match(/terminating connection|Connection terminated|ECONNREFUSED|57P01/g) ?? []).length
        } database errors logged during the outage`,
      });
    });
  },
);
