import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { decodeState } from '@fedistill/secagg';
import { type RoundAnnouncement, NodeEvent } from '@fedistill/wire';
import { type DemoSplit, splitBreastCancer } from '../../../apps/cli/src/demo/demo-data';
import type { RoundView } from '../../../apps/coordinator/src/rounds/round-view';
import { MaliciousCoordinator } from './malicious-coordinator';
import {
  admin,
  cli,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './processes';
import { createBreastCancerFederation, prepareSiteNode, uploadReference } from './site-nodes';

const REPO = path.resolve(__dirname, '..', '..', '..');
type Call = { path: string; site: string; body: Buffer };

/** One row of a node's egress log (audit-log.db), as an auditor reads it. */
export interface EgressRow {
  event: string;
  kind: string;
  round: string;
  detail: string;
}

/**
 * A breast-cancer federation of real `fedistill node start` processes whose coordinator address
 * is a recording proxy (`MaliciousCoordinator` forwarding everything unchanged), so a test holds
 * every byte each site sent (`evil.requests`) and every announcement it received, with noise on
 * and short stage deadlines. The hooks let a test kill a node the moment a request arrives.
 */
export class ProxiedFederation {
  fx!: CoordinatorFixture;
  evil!: MaliciousCoordinator;
  split!: DemoSplit;
  readonly nodes = new Map<string, ChildProcess>();
  readonly dirs: Record<string, string> = {};
  /** Each round's announcement as the sites received it, by round number. */
  readonly announcements = new Map<number, RoundAnnouncement>();
  onRequest: (call: Call) => void = () => undefined;
  /** Called with each reply from the coordinator before the proxy passes it on to the site. */
  onResponse: (call: { path: string; site: string; response: Buffer }) => void = () => undefined;

  constructor(
    readonly id: string,
    readonly sites: readonly string[],
    private readonly dropoutTolerance: number,
    /** Stage lengths; each stage's deadline counts from the previous one, so they add up. */
    private readonly deadlines: Readonly<Record<string, string>> = {
      advertiseKeys: '15s',
      shareKeys: '10s',
      maskedInput: '15s',
      consistency: '8s',
      unmask: '10s',
    },
  ) {}

  async start(): Promise<void> {
    this.fx = await startCoordinatorProcess({ heartbeatInterval: '500ms', offlineAfter: '4s' });
    this.evil = new MaliciousCoordinator({
      upstream: this.fx.grpcAddress,
      caFile: this.fx.caFile,
      certFile: path.join(this.fx.dir, 'pki', 'coordinator.crt'),
      keyFile: path.join(this.fx.dir, 'pki', 'coordinator.key'),
      tamper: ({ path: method, site, response }) => {
        this.onResponse({ path: method, site, response });
        if (method.endsWith('/Subscribe')) {
          const event = NodeEvent.decode(response).event;
          if (event?.$case === 'roundAnnounced')
            this.announcements.set(event.value.round!.round, event.value);
        }
        return response;
      },
      onRequest: (call) => this.onRequest(call),
    });
    const address = await this.evil.listen();
    this.split = await splitBreastCancer(REPO, this.sites.length);
    for (const site of this.sites) {
      this.dirs[site] = await enrolNodeWithCli(this.fx, site, undefined, address);
      this.configure(site);
      this.startNode(site);
    }
    await createBreastCancerFederation(this.fx, {
      id: this.id,
      referenceSha256: await uploadReference(this.fx, this.split.reference),
      members: this.sites,
      dirs: this.dirs,
      noiseMultiplier: 1.5,
      dropoutTolerance: this.dropoutTolerance,
      rounds: {
        minSites: this.sites.length - this.dropoutTolerance,
        queriesPerRound: 10,
        deadlines: this.deadlines,
      },
    });
    await this.online(this.sites.length);
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) n.kill('SIGTERM');
    await Promise.all([...this.nodes.values()].map((n) => exited(n)));
    await this.evil?.close();
    await this.fx?.stop();
  }

  /** node.yaml: the site's records, 4 teachers, and an optional dropout drill. */
  configure(site: string, drill?: 'keys' | 'shares' | 'input'): void {
    prepareSiteNode(this.dirs[site]!, this.split.hospitals[this.sites.indexOf(site)]!, {
      teachers: { count: 4, hidden: [8], epochs: 10, batchSize: 8 },
      epsilonLimit: 100,
      drill,
    });
  }

  startNode(site: string): void {
    this.nodes.set(
      site,
      spawnCli(['node', 'start', '--dir', this.dirs[site]!], path.join(this.fx.dir, `${site}.log`)),
    );
  }

  online(expected: number): Promise<true> {
    return waitFor(`${expected} sites online`, 60_000, async () => {
      const { body } = await admin<{ sites: { online: boolean }[] }>(this.fx, 'GET', '/api/v1/sites');
      return body.sites.filter((s) => s.online).length === expected ? true : undefined;
    });
  }

  async rounds(): Promise<RoundView[]> {
    return (await admin<{ rounds: RoundView[] }>(this.fx, 'GET', `/api/v1/federations/${this.id}/rounds`))
      .body.rounds;
  }

  /** Starts a round through the admin API; returns its number and the capture index it started at. */
  async startRound(): Promise<{ round: number; mark: number }> {
    const mark = this.evil.requests.length;
    const started = await admin(this.fx, 'POST', `/api/v1/federations/${this.id}/rounds`, {});
    if (started.status !== 201) throw new Error(`round refused: ${JSON.stringify(started.body)}`);
    return { round: (await this.rounds()).at(-1)!.round, mark };
  }

  finished(round: number, timeoutMs = 120_000): Promise<RoundView> {
    return waitFor(`round ${round} to finish`, timeoutMs, async () => {
      const r = (await this.rounds()).find((x) => x.round === round);
      return r && r.status !== 'open' ? r : undefined;
    });
  }

  /** What the proxy captured since `mark` whose method ends with `method`. */
  captured(mark: number, method: string): Call[] {
    return this.evil.requests.slice(mark).filter((r) => r.path.endsWith(`/${method}`));
  }

  /** The egress log of a node (its own audit-log.db), every row. */
  egress(site: string): EgressRow[] {
    const db = new Database(path.join(this.dirs[site]!, 'audit-log.db'), { readonly: true });
    try {
      return db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as EgressRow[];
    } finally {
      db.close();
    }
  }

  /** `fedistill audit verify` over a node's log and the coordinator's transcript (the real CLI). */
  async verifyAudit(site: string): Promise<{ code: number | null; stdout: string }> {
    const res = await cli([
      'audit',
      'verify',
      '--json',
      '--node-dir',
      this.dirs[site]!,
      '--coordinator-data',
      path.join(this.fx.dir, 'data'),
    ]);
    return { code: res.code, stdout: res.stdout + res.stderr };
  }

  /** Students published for the federation, with the rounds each was trained on. */
  async students(): Promise<{ version: number; rounds: number[] }[]> {
    return (
      await admin<{ students: { version: number; rounds: number[] }[] }>(
        this.fx,
        'GET',
        `/api/v1/federations/${this.id}/students`,
      )
    ).body.students;
  }

  /** The round as the coordinator persisted it: its row and the secure-aggregation state in it. */
  storedRound(round: number): {
    status: string;
    coordinator: {
      stage: string;
      result: Uint32Array | null;
      maskedSum: Uint32Array | null;
      reason: string | null;
    };
  } {
    const db = new Database(this.fx.dbFile, { readonly: true });
    try {
      const row = db
        .prepare('SELECT status, engine FROM rounds WHERE federation_id = ? AND round = ?')
        .get(this.id, round) as { status: string; engine: string };
      const { coordinator } = decodeState<{
        coordinator: {
          stage: string;
          result: Uint32Array | null;
          maskedSum: Uint32Array | null;
          reason: string | null;
        };
      }>(row.engine);
      return { status: row.status, coordinator };
    } finally {
      db.close();
    }
  }

  /** The coordinator's log file and audit transcript database. */
  get coordinatorFiles(): { log: string; auditDb: string } {
    return { log: this.fx.logFile, auditDb: path.join(this.fx.dir, 'data', 'audit-log.db') };
  }

  readLog(): string {
    return fs.readFileSync(this.fx.logFile, 'utf8');
  }
}
