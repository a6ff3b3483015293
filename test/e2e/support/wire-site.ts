import { AuditChain, MemoryAuditLogStore } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import { type NodeEvent, type RoundAnnouncement, RoundsService } from '@fedistill/wire';
import { NodeEgress } from '../../../apps/node/src/egress';
import { type ParticipationHooks, RoundParticipant } from '../../../apps/node/src/round-participant';
import { NodeSessionService } from '@fedistill/wire';
import { admin, type CoordinatorFixture } from './processes';
import { enrollWithGeneratedClient } from './wire-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A site played by the test over the real wire: the node's own egress path (signed requests,
 * TLS) and its RoundParticipant (the real SecAgg+ site state machine), fed with an integer
 * summary the test chose. The node's teacher side is not involved: these tests are about the
 * round protocol.
 */
export class WireSite {
  readonly events: NodeEvent[] = [];
  /** The site's egress log (in memory here; a node keeps it in audit-log.db). */
  readonly log = new MemoryAuditLogStore();
  /** The node's own egress path (tests download artifacts through it). */
  readonly egress: NodeEgress;
  private stream: Awaited<ReturnType<NodeEgress['serverStream']>> | undefined;
  private beat: NodeJS.Timeout | undefined;

  private constructor(
    readonly name: string,
    readonly keys: SiteKeys,
    fx: CoordinatorFixture,
    coordinatorKey: string,
  ) {
    this.egress = new NodeEgress({
      audit: new AuditChain(this.log, name, keys),
      address: fx.grpcAddress,
      caFile: fx.caFile,
      site: name,
      keys,
      serverName: 'localhost',
      coordinatorKey,
    });
  }

  static async enrol(fx: CoordinatorFixture, name: string): Promise<WireSite> {
    const { body } = await admin<{ token: string }>(fx, 'POST', '/api/v1/enrolment-tokens', { site: name });
    const { keys, response } = await enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, name, body.token);
    return new WireSite(name, keys, fx, Buffer.from(response.coordinatorSigningPublicKey).toString('hex'));
  }

  /** Heartbeat (every `heartbeatMs`) and event stream, as a node keeps them. */
  async connect(heartbeatMs = 300): Promise<void> {
    const heartbeat = () =>
      this.egress.unary(NodeSessionService.heartbeat, { nodeVersion: 'e2e', activeRounds: [] });
    await heartbeat();
    this.beat = setInterval(() => void heartbeat().catch(() => undefined), heartbeatMs);
    this.stream = await this.egress.serverStream(NodeSessionService.subscribe, { afterEventId: 0 });
    this.stream.on('data', (e: NodeEvent) => this.events.push(e));
    this.stream.on('error', () => undefined);
  }

  async announcement(timeoutMs = 10_000): Promise<RoundAnnouncement> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event?.$case === 'roundAnnounced');
      if (found?.event?.$case === 'roundAnnounced') return found.event.value;
      if (Date.now() > until) throw new Error(`${this.name}: no round announcement`);
      await sleep(50);
    }
  }

  /**
   * Plays the round with `values` (signed integers, one per query and class) through the node's
   * own RoundParticipant; the hooks make the site vanish or wait at a stage.
   */
  play(a: RoundAnnouncement, values: Int32Array, hooks: ParticipationHooks = {}): Promise<void> {
    return new RoundParticipant(this.egress, this.name, this.keys.signingSecretKey, 90_000).play(
      a,
      values,
      hooks,
    );
  }

  async decline(a: RoundAnnouncement, detail: string): Promise<void> {
    await this.egress.unary(RoundsService.declineRound, {
      round: a.round,
      reason: 1,
      detail,
      epsilonSpent: 7.5,
      epsilonLimit: 8,
      roundEpsilon: 1.2,
    });
  }

  close(): void {
    clearInterval(this.beat);
    this.stream?.cancel();
    this.egress.close();
  }
}
