import { status, type ServiceError } from '@grpc/grpc-js';
import { AuditChain, MemoryAuditLogStore } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import { encodeSigned, SecAggSite, type SecAggConfig } from '@fedistill/secagg';
import { type NodeEvent, type RoundAnnouncement, RoundsService, ShareKind } from '@fedistill/wire';
import { NodeEgress } from '../../../apps/node/src/egress';
import { NodeSessionService } from '@fedistill/wire';
import { admin, type CoordinatorFixture } from './processes';
import { enrollWithGeneratedClient } from './wire-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A site played by the test over the real wire: the node's own egress path (signed requests,
 * TLS) and the real SecAgg+ site state machine, fed with an integer summary the test chose. The
 * node process's teacher side is not involved: these tests are about the round protocol.
 */
export class WireSite {
  readonly events: NodeEvent[] = [];
  private readonly egress: NodeEgress;
  private stream: Awaited<ReturnType<NodeEgress['serverStream']>> | undefined;
  private beat: NodeJS.Timeout | undefined;

  private constructor(
    readonly name: string,
    readonly keys: SiteKeys,
    fx: CoordinatorFixture,
  ) {
    this.egress = new NodeEgress({
      audit: new AuditChain(new MemoryAuditLogStore(), name, keys),
      address: fx.grpcAddress,
      caFile: fx.caFile,
      site: name,
      keys,
      serverName: 'localhost',
    });
  }

  static async enrol(fx: CoordinatorFixture, name: string): Promise<WireSite> {
    const { body } = await admin<{ token: string }>(fx, 'POST', '/api/v1/enrolment-tokens', { site: name });
    const { keys } = await enrollWithGeneratedClient(fx.grpcAddress, fx.caPem, name, body.token);
    return new WireSite(name, keys, fx);
  }

  /** Heartbeat and event stream, as a node keeps them. */
  async connect(): Promise<void> {
    const heartbeat = () =>
      this.egress.unary(NodeSessionService.heartbeat, { nodeVersion: 'e2e', activeRounds: [] });
    await heartbeat();
    this.beat = setInterval(() => void heartbeat().catch(() => undefined), 300);
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

  /** Calls `fn` until the stage it needs is open (FAILED_PRECONDITION) or the coordinator is back (UNAVAILABLE). */
  private async poll<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const code = (err as ServiceError).code;
        if ((code !== status.FAILED_PRECONDITION && code !== status.UNAVAILABLE) || Date.now() > until)
          throw err;
        await sleep(100);
      }
    }
  }

  /**
   * Plays the round with `values` (signed integers, one per query and class) as the summary;
   * `stopAfter` makes the site vanish after that stage.
   */
  async play(
    a: RoundAnnouncement,
    values: Int32Array,
    opts: {
      stopAfter?: 'keys' | 'shares' | 'input';
      afterKeys?: () => Promise<void>;
      beforeInput?: () => Promise<void>;
    } = {},
  ): Promise<void> {
    const stopAfter = opts.stopAfter;
    const round = a.round!;
    const config: SecAggConfig = {
      roundId: `${round.federationId}#${round.round}`,
      siteIds: a.participants.map((p) => p.siteId),
      threshold: a.threshold,
      neighbours: a.neighbours === 0 ? 'all' : a.neighbours,
      bits: a.modulusBits,
      maxInput: a.maxInput,
      signed: true,
      length: a.queryIndices.length * a.numClasses,
      minSurvivors: a.minSurvivors,
      graphSeed: new Uint8Array(a.graphSeed),
    };
    const siteId = a.participants.find((p) => p.siteName === this.name)!.siteId;
    const identityKeys = new Map(a.participants.map((p) => [p.siteId, new Uint8Array(p.signingPublicKey)]));
    const site = SecAggSite.create({
      config,
      siteId,
      identitySecretKey: this.keys.signingSecretKey,
      identityKeys,
    });
    const advert = site.advertiseKeys();
    const wireKeys = {
      siteId,
      maskPublicKey: Buffer.from(advert.maskPublicKey),
      sealPublicKey: Buffer.from(advert.sealPublicKey),
      signature: Buffer.from(advert.signature),
    };
    await this.poll(() => this.egress.unary(RoundsService.advertiseKeys, { round, keys: wireKeys }));
    if (stopAfter === 'keys') return;
    await opts.afterKeys?.();
    const roster = await this.poll(() => this.egress.unary(RoundsService.getRoundKeys, { round }));
    const shares = site.shareKeys({
      roundId: config.roundId,
      adverts: roster.keys.map((k) => ({
        roundId: config.roundId,
        siteId: k.siteId,
        maskPublicKey: new Uint8Array(k.maskPublicKey),
        sealPublicKey: new Uint8Array(k.sealPublicKey),
        signature: new Uint8Array(k.signature),
      })),
    });
    const wireShares = shares.map((s) => ({
      fromSiteId: s.from,
      toSiteId: s.to,
      nonce: Buffer.from(s.nonce),
      ciphertext: Buffer.from(s.ciphertext),
    }));
    await this.poll(() => this.egress.unary(RoundsService.sendShares, { round, shares: wireShares }));
    if (stopAfter === 'shares') return;
    const fetched = await this.poll(() => this.egress.unary(RoundsService.fetchShares, { round }));
    const masked = site.maskInput(
      {
        roundId: config.roundId,
        to: siteId,
        sharers: fetched.sharers,
        shares: fetched.shares.map((s) => ({
          roundId: config.roundId,
          from: s.fromSiteId,
          to: s.toSiteId,
          nonce: new Uint8Array(s.nonce),
          ciphertext: new Uint8Array(s.ciphertext),
        })),
      },
      encodeSigned(values, config.bits ?? 32),
    );
    await opts.beforeInput?.();
    const bytes = Buffer.from(masked.vector.buffer, masked.vector.byteOffset, masked.vector.byteLength);
    await this.poll(() =>
      this.egress.unary(RoundsService.submitMaskedSummary, {
        round,
        maskedVector: bytes,
        length: masked.vector.length,
      }),
    );
    if (stopAfter === 'input') return;
    const request = await this.poll(() => this.egress.unary(RoundsService.getUnmaskRequest, { round }));
    const response = site.unmask({
      roundId: config.roundId,
      to: siteId,
      survivors: request.survivors,
      dropped: request.dropped,
    });
    const reveal = (list: typeof response.keyShares, kind: ShareKind) =>
      list.map((s) => ({ aboutSiteId: s.of, kind, x: s.x, share: Buffer.from(s.share) }));
    await this.poll(() =>
      this.egress.unary(RoundsService.submitUnmaskShares, {
        round,
        shares: [
          ...reveal(response.keyShares, ShareKind.SHARE_KIND_MASK_KEY),
          ...reveal(response.seedShares, ShareKind.SHARE_KIND_SELF_MASK_SEED),
        ],
      }),
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
