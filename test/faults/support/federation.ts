import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { type DemoSplit, splitBreastCancer } from '../../../apps/cli/src/demo/demo-data';
import type { RoundView } from '../../../apps/coordinator/src/rounds/round-view';
import {
  admin,
  BIN,
  cli,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  freePort,
  startCoordinatorProcess,
  waitFor,
} from '../../e2e/support/processes';
import { createBreastCancerFederation, prepareSiteNode, uploadReference } from '../../e2e/support/site-nodes';
import { FederationRounds } from './rounds';

const REPO = path.resolve(__dirname, '..', '..', '..');
export const SITES = ['site-a', 'site-b', 'site-c', 'site-d'] as const;
export const HONEST = ['site-a', 'site-b', 'site-c'];

export interface FaultFederationOptions {
  readonly id: string;
  /** Runs once the coordinator is up, before any site enrols (e.g. to move its data directory). */
  readonly afterCoordinatorStart?: (fx: CoordinatorFixture) => Promise<void>;
  /** A site's node directory (default FIXTURE/sites/SITE). */
  readonly nodeDir?: (site: string, fx: CoordinatorFixture) => string;
  /** The address a site's node dials once the federation is set up (default the coordinator's own). */
  readonly dial?: (site: string, fx: CoordinatorFixture) => string | undefined;
  /** A command that a site's node runs under once the federation is set up (e.g. `ip netns exec NS`). */
  readonly wrap?: (site: string) => readonly string[];
  /** Stage lengths (the defaults are the fault matrix's). */
  readonly deadlines?: Readonly<Record<string, string>>;
}

/**
 * The fault matrix's federation for the cases that need a different set-up (a coordinator data
 * directory on a disk of its own, a site in a network namespace): one coordinator process, four
 * `fedistill node start` processes over TLS, breast-cancer data, a federation that tolerates one
 * dropout (minSites 3), as test/faults/fault-matrix.faults-spec.ts sets up.
 */
export class FaultFederation {
  fx!: CoordinatorFixture;
  split!: DemoSplit;
  readonly nodes = new Map<string, ChildProcess>();
  readonly dirs: Record<string, string> = {};
  readonly rounds: FederationRounds;
  private setUp = false;

  constructor(private readonly o: FaultFederationOptions) {
    this.rounds = new FederationRounds(() => this.fx, o.id);
  }

  async start(): Promise<void> {
    this.fx = await startCoordinatorProcess({
      heartbeatInterval: '500ms',
      offlineAfter: '4s',
      grpcPort: await freePort(),
    });
    await this.o.afterCoordinatorStart?.(this.fx);
    this.split = await splitBreastCancer(REPO, SITES.length);
    for (const site of SITES) {
      const dir = await enrolNodeWithCli(
        this.fx,
        site,
        this.o.nodeDir?.(site, this.fx) ?? path.join(this.fx.dir, 'sites', site),
      );
      this.dirs[site] = dir;
      this.configure(site);
      this.startNode(site);
    }
    await createBreastCancerFederation(this.fx, {
      id: this.o.id,
      referenceSha256: await uploadReference(this.fx, this.split.reference),
      members: SITES,
      dirs: this.dirs,
      noiseMultiplier: 1.5,
      dropoutTolerance: 1,
      rounds: {
        minSites: 3,
        maxRounds: 20,
        queriesPerRound: 10,
        deadlines: this.o.deadlines ?? {
          advertiseKeys: '15s',
          shareKeys: '10s',
          maskedInput: '15s',
          unmask: '10s',
        },
      },
    });
    await this.rounds.online(SITES.length);
    // Set up like the others (enrolment and the operator's approval run on the host, with the
    // CLI), a site with an address of its own now dials it, under its wrapper.
    this.setUp = true;
    for (const site of SITES) {
      const dial = this.o.dial?.(site, this.fx);
      if (!dial) continue;
      await this.stopNode(site);
      const file = path.join(this.dirs[site]!, 'node.yaml');
      fs.writeFileSync(
        file,
        stringify({ ...(parse(fs.readFileSync(file, 'utf8')) as object), coordinator: dial }),
      );
      const restarted = Date.now();
      this.startNode(site);
      await this.seenSince(site, restarted);
    }
    await this.rounds.online(SITES.length);
  }

  /** Waits until the coordinator heard from `site` (a heartbeat) after `since` (Unix ms). */
  seenSince(site: string, since: number): Promise<true> {
    return waitFor(`a heartbeat from ${site}`, 90_000, async () => {
      const { body } = await admin<{ sites: { name: string; lastSeenAt: string | null }[] }>(
        this.fx,
        'GET',
        '/api/v1/sites',
      );
      const seen = body.sites.find((s) => s.name === site)?.lastSeenAt;
      return seen && Date.parse(seen) > since ? true : undefined;
    });
  }

  /** node.yaml: the site's records, 4 small teachers, an optional dropout drill. */
  configure(site: string, drill?: 'keys' | 'shares' | 'input'): void {
    prepareSiteNode(this.dirs[site]!, this.split.hospitals[SITES.indexOf(site as (typeof SITES)[number])]!, {
      teachers: { count: 4, hidden: [8], epochs: 10, batchSize: 8 },
      epsilonLimit: 1000,
      drill,
    });
  }

  logFile(site: string): string {
    return path.join(this.fx.dir, `${site}.log`);
  }

  /** Starts the site's node (under its wrapper once the federation is set up). */
  startNode(site: string): void {
    const [cmd, ...args] = [
      ...((this.setUp && this.o.wrap?.(site)) || []),
      process.execPath,
      BIN,
      'node',
      'start',
      '--dir',
      this.dirs[site]!,
    ];
    const fd = fs.openSync(this.logFile(site), 'a');
    this.nodes.set(site, spawn(cmd!, args, { stdio: ['ignore', fd, fd] }));
    fs.closeSync(fd);
  }

  /** Whether the site's node process has ended. */
  ended(site: string): boolean {
    const n = this.nodes.get(site);
    return !n || n.exitCode !== null || n.signalCode !== null;
  }

  async stopNode(site: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const node = this.nodes.get(site)!;
    node.kill('SIGCONT');
    node.kill(signal);
    await exited(node);
  }

  async stopNodes(): Promise<void> {
    await Promise.all(SITES.filter((s) => this.nodes.has(s)).map((s) => this.stopNode(s)));
  }

  /** A round opened through the admin API and followed to its end. */
  async roundToEnd(during?: (n: number) => Promise<void>): Promise<RoundView> {
    const n = await this.rounds.open();
    await during?.(n);
    return this.rounds.finished(n);
  }

  /**
   * `fedistill audit verify` over the coordinator's transcript and every node's egress log
   * (anchors included); the nodes are stopped first so that their logs are complete on disk.
   */
  async verifyLogs(): Promise<string> {
    await this.stopNodes();
    const args = ['audit', 'verify', '--json', '--coordinator-data', path.join(this.fx.dir, 'data')];
    for (const site of SITES) args.push('--node-dir', this.dirs[site]!);
    const res = await cli(args);
    const result = JSON.parse(res.stdout) as {
      ok: boolean;
      logs: { ok: boolean; actor: string; entries: number }[];
    };
    expect(res.code).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.logs).toHaveLength(SITES.length + 1);
    return `${result.logs.length} logs verified (${result.logs.map((l) => `${l.actor} ${l.entries}`).join(', ')})`;
  }

  /** Stops every process, runs `beforeRemove` (e.g. unmount a disk), then removes the fixture. */
  async stop(beforeRemove: () => void = () => undefined): Promise<void> {
    for (const n of this.nodes.values()) {
      n.kill('SIGCONT');
      n.kill('SIGTERM');
    }
    await Promise.all([...this.nodes.values()].map((n) => exited(n)));
    if (this.fx) {
      this.fx.process.kill('SIGTERM');
      await exited(this.fx.process);
    }
    beforeRemove();
    await this.fx?.stop();
  }
}
