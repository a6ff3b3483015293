import { status, type ServiceError } from '@grpc/grpc-js';
import { encodeSigned, packWords, type SecAggConfig, SecAggSite } from '@fedistill/secagg';
import { type RoundAnnouncement, RoundsService, ShareKind, SummaryKind } from '@fedistill/wire';
import type { EgressContext, NodeEgress } from './egress';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where a participant may stop (for dropout drills) or be held (for tests and tools). */
export interface ParticipationHooks {
  readonly stopAfter?: 'keys' | 'shares' | 'input';
  readonly afterKeys?: () => Promise<void>;
  readonly beforeInput?: () => Promise<void>;
}

/** The secure-aggregation configuration a round announcement implies (identical at every site and the coordinator). */
export function configFromAnnouncement(a: RoundAnnouncement): SecAggConfig {
  const round = a.round;
  if (!round) throw new RangeError('the announcement names no round');
  return {
    roundId: `${round.federationId}#${round.round}`,
    siteIds: a.participants.map((p) => p.siteId),
    threshold: a.threshold,
    neighbours: a.neighbours === 0 ? 'all' : a.neighbours,
    bits: a.modulusBits,
    maxInput: a.maxInput,
    signed: true,
    // An evaluation round releases, per class, correct predictions and test records.
    length:
      a.summaryKind === SummaryKind.SUMMARY_KIND_EVALUATION
        ? 2 * a.numClasses
        : a.queryIndices.length * a.numClasses,
    minSurvivors: a.minSurvivors,
  };
}

/**
 * A site's side of one round over the wire: it runs the SecAgg+ site state machine (Bonawitz et
 * al. CCS 2017, §4; Bell et al. CCS 2020) and moves through the stages as the coordinator
 * closes them, polling while a stage is still open and retrying while the coordinator restarts.
 * Every message goes out through the node's egress path (signed, logged before it is sent).
 */
export class RoundParticipant {
  constructor(
    private readonly egress: NodeEgress,
    private readonly site: string,
    private readonly identitySecretKey: Uint8Array,
    private readonly pollTimeoutMs = 120_000,
    /** Other sites this site assumes collude with the coordinator: raises the consistency quorum. */
    private readonly colluders = 0,
  ) {}

  private async poll<T>(fn: () => Promise<T>): Promise<T> {
    const until = Date.now() + this.pollTimeoutMs;
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
   * Answers the round with `values` (signed integers, one per query and class). `release` is
   * what the egress log records with the masked input: the round's privacy cost and the site's
   * running total (the other messages carry the federation and round only).
   */
  async play(
    a: RoundAnnouncement,
    values: Int32Array,
    hooks: ParticipationHooks = {},
    release: EgressContext = {},
  ): Promise<void> {
    const config = configFromAnnouncement(a);
    const round = a.round;
    const context: EgressContext = { federation: round?.federationId, round: round?.round };
    const me = a.participants.find((p) => p.siteName === this.site);
    if (!me) throw new RangeError(`site '${this.site}' is not a participant of round ${config.roundId}`);
    const identityKeys = new Map(a.participants.map((p) => [p.siteId, new Uint8Array(p.signingPublicKey)]));
    const sa = SecAggSite.create({
      config,
      siteId: me.siteId,
      identitySecretKey: this.identitySecretKey,
      identityKeys,
      colluders: this.colluders,
    });
    const advert = sa.advertiseKeys();
    const keys = {
      siteId: me.siteId,
      maskPublicKey: Buffer.from(advert.maskPublicKey),
      sealPublicKey: Buffer.from(advert.sealPublicKey),
      signature: Buffer.from(advert.signature),
    };
    await this.poll(() => this.egress.unary(RoundsService.advertiseKeys, { round, keys }, { context }));
    if (hooks.stopAfter === 'keys') return;
    await hooks.afterKeys?.();
    const roster = await this.poll(() =>
      this.egress.unary(RoundsService.getRoundKeys, { round }, { context }),
    );
    const shares = sa.shareKeys({
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
    await this.poll(() =>
      this.egress.unary(RoundsService.sendShares, { round, shares: wireShares }, { context }),
    );
    if (hooks.stopAfter === 'shares') return;
    const fetched = await this.poll(() =>
      this.egress.unary(RoundsService.fetchShares, { round }, { context }),
    );
    const masked = sa.maskInput(
      {
        roundId: config.roundId,
        to: me.siteId,
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
    await hooks.beforeInput?.();
    const bytes = Buffer.from(packWords(masked.vector, config.bits ?? 32));
    await this.poll(() =>
      this.egress.unary(
        RoundsService.submitMaskedSummary,
        {
          round,
          maskedVector: bytes,
          length: masked.vector.length,
          sharersSignature: Buffer.from(masked.sharersSignature),
        },
        // The sharer set this site masked against (and signed) is logged with the summary.
        {
          context: {
            ...context,
            ...release,
            consistency: { sharers: [...fetched.sharers].sort((a, b) => a - b) },
          },
        },
      ),
    );
    if (hooks.stopAfter === 'input') return;
    // Consistency round (Bonawitz et al. CCS 2017, Fig. 4, round 3): sign the survivor set once;
    // the signed sets are recorded in the egress log with the signature that leaves.
    const set = await this.poll(() =>
      this.egress.unary(RoundsService.getSurvivorSet, { round }, { context }),
    );
    const sets = { survivors: [...set.survivors], dropped: [...set.dropped] };
    const signed = sa.signSurvivors({ roundId: config.roundId, to: me.siteId, ...sets });
    await this.poll(() =>
      this.egress.unary(
        RoundsService.submitSurvivorSignature,
        { round, signature: Buffer.from(signed.signature) },
        { context: { ...context, consistency: sets } },
      ),
    );
    const request = await this.poll(() =>
      this.egress.unary(RoundsService.getUnmaskRequest, { round }, { context }),
    );
    const signatures = (list: typeof request.survivorSignatures) =>
      list.map((x) => ({ siteId: x.siteId, signature: new Uint8Array(x.signature) }));
    const response = sa.unmask({
      roundId: config.roundId,
      to: me.siteId,
      survivors: request.survivors,
      dropped: request.dropped,
      signatures: signatures(request.survivorSignatures),
      sharerSignatures: signatures(request.sharerSignatures),
    });
    // unmask() verified every listed signature (it refuses otherwise): they are the evidence.
    const verified = Object.fromEntries(
      request.survivorSignatures.map((x) => [x.siteId, Buffer.from(x.signature).toString('hex')]),
    );
    const reveal = (list: typeof response.keyShares, kind: ShareKind) =>
      list.map((s) => ({ aboutSiteId: s.of, kind, x: s.x, share: Buffer.from(s.share) }));
    const revealed = [
      ...reveal(response.keyShares, ShareKind.SHARE_KIND_MASK_KEY),
      ...reveal(response.seedShares, ShareKind.SHARE_KIND_SELF_MASK_SEED),
    ];
    await this.poll(() =>
      this.egress.unary(
        RoundsService.submitUnmaskShares,
        { round, shares: revealed },
        { context: { ...context, consistency: { ...sets, signatures: verified } } },
      ),
    );
  }
}
