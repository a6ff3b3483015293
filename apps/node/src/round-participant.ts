import { encodeSigned, type SecAggConfig, SecAggSite } from '@fedistill/secagg';
import {
  advertFromWire,
  advertToWire,
  decodeAnnouncement,
  deliveryFromWire,
  maskedInputToWire,
  secaggConfigOf,
  shareToWire,
  survivorSetFromWire,
  unmaskRequestFromWire,
  unmaskResponseToWire,
  WireFieldError,
} from '@fedistill/protocol';
import { type RoundAnnouncement, RoundsService } from '@fedistill/wire';
import { refuse } from './announcement-checks';
import { pollRound, type RoundWait } from './round-poll';
import { RoundSignals } from './round-signals';
import type { EgressContext, NodeEgress } from './egress';

/** Where a participant may stop (for dropout drills) or be held (for tests and tools). */
export interface ParticipationHooks {
  readonly stopAfter?: 'keys' | 'shares' | 'input';
  readonly afterKeys?: () => Promise<void>;
  readonly beforeInput?: () => Promise<void>;
}

/** A malformed message from the coordinator is refused like any other bad term, naming the field. */
function fromCoordinator<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof WireFieldError) throw refuse(`the coordinator's ${what} is malformed: ${err.message}`);
    throw err;
  }
}

/**
 * The secure-aggregation configuration a round announcement implies: libs/protocol's one
 * derivation (secaggConfigOf), from the decoded announcement, identical at every site and the
 * coordinator. Throws WireFieldError naming a malformed field.
 */
export function configFromAnnouncement(a: RoundAnnouncement): SecAggConfig {
  return secaggConfigOf(decodeAnnouncement(a));
}

/**
 * A site's side of one round over the wire: it runs the SecAgg+ site state machine (Bonawitz et
 * al. CCS 2017, §4; Bell et al. CCS 2020) and moves through the stages as the coordinator
 * closes them, polling while a stage is still open and retrying while the coordinator restarts
 * or is too busy to answer in time (round-poll.ts).
 * Every message goes out through the node's egress path (signed, logged before it is sent), and
 * every message is converted by libs/protocol's secagg-wire mappers, as the coordinator's are.
 */
export class RoundParticipant {
  constructor(
    private readonly egress: NodeEgress,
    private readonly site: string,
    private readonly identitySecretKey: Uint8Array,
    private readonly pollTimeoutMs = 120_000,
    /** Other sites this site assumes collude with the coordinator: raises the consistency quorum. */
    private readonly colluders = 0,
    /** The event stream's word that a round moved on (without it: the backoff alone). */
    private readonly signals = new RoundSignals(),
  ) {}

  private poll<T>(wait: RoundWait, fn: () => Promise<T>): Promise<T> {
    return pollRound(this.signals, wait, this.pollTimeoutMs, fn);
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
    const terms = decodeAnnouncement(a);
    const config = secaggConfigOf(terms);
    const bits = terms.modulusBits;
    const round = { federationId: terms.federationId, round: terms.round };
    const wait: RoundWait = { ...round, lastDeadline: Math.max(...Object.values(terms.deadlines)) };
    const context: EgressContext = { federation: round.federationId, round: round.round };
    const me = terms.participants.find((p) => p.siteName === this.site);
    if (!me) throw new RangeError(`site '${this.site}' is not a participant of round ${config.roundId}`);
    const identityKeys = new Map(
      terms.participants.map((p) => [p.siteId, new Uint8Array(Buffer.from(p.signingPublicKey, 'hex'))]),
    );
    const sa = SecAggSite.create({
      config,
      siteId: me.siteId,
      identitySecretKey: this.identitySecretKey,
      identityKeys,
      colluders: this.colluders,
    });
    const keys = advertToWire(sa.advertiseKeys());
    await this.poll(wait, () => this.egress.unary(RoundsService.advertiseKeys, { round, keys }, { context }));
    if (hooks.stopAfter === 'keys') return;
    await hooks.afterKeys?.();
    const roster = await this.poll(wait, () =>
      this.egress.unary(RoundsService.getRoundKeys, { round }, { context }),
    );
    const shares = sa.shareKeys({
      roundId: config.roundId,
      adverts: fromCoordinator('key roster', () =>
        roster.keys.map((k, i) => advertFromWire(k, config.roundId, `keys[${i}]`)),
      ),
    });
    await this.poll(wait, () =>
      this.egress.unary(RoundsService.sendShares, { round, shares: shares.map(shareToWire) }, { context }),
    );
    if (hooks.stopAfter === 'shares') return;
    const fetched = await this.poll(wait, () =>
      this.egress.unary(RoundsService.fetchShares, { round }, { context }),
    );
    const delivery = fromCoordinator('share delivery', () =>
      deliveryFromWire(fetched, config.roundId, me.siteId),
    );
    const masked = sa.maskInput(delivery, encodeSigned(values, bits));
    await hooks.beforeInput?.();
    await this.poll(wait, () =>
      this.egress.unary(
        RoundsService.submitMaskedSummary,
        { round, ...maskedInputToWire(masked, bits) },
        // The sharer set this site masked against (and signed) is logged with the summary.
        {
          context: {
            ...context,
            ...release,
            consistency: { sharers: [...delivery.sharers].sort((x, y) => x - y) },
          },
        },
      ),
    );
    if (hooks.stopAfter === 'input') return;
    // Consistency round (Bonawitz et al. CCS 2017, Fig. 4, round 3): sign the survivor set once;
    // the signed sets are recorded in the egress log with the signature that leaves.
    const shown = await this.poll(wait, () =>
      this.egress.unary(RoundsService.getSurvivorSet, { round }, { context }),
    );
    const set = fromCoordinator('survivor set', () => survivorSetFromWire(shown, config.roundId, me.siteId));
    const sets = { survivors: [...set.survivors], dropped: [...set.dropped] };
    const signed = sa.signSurvivors(set);
    await this.poll(wait, () =>
      this.egress.unary(
        RoundsService.submitSurvivorSignature,
        { round, signature: Buffer.from(signed.signature) },
        { context: { ...context, consistency: sets } },
      ),
    );
    const asked = await this.poll(wait, () =>
      this.egress.unary(RoundsService.getUnmaskRequest, { round }, { context }),
    );
    const request = fromCoordinator('unmask request', () =>
      unmaskRequestFromWire(asked, config.roundId, me.siteId),
    );
    const response = sa.unmask(request);
    // unmask() verified every listed signature (it refuses otherwise): they are the evidence.
    const verified = Object.fromEntries(
      request.signatures.map((x) => [x.siteId, Buffer.from(x.signature).toString('hex')]),
    );
    await this.poll(wait, () =>
      this.egress.unary(
        RoundsService.submitUnmaskShares,
        { round, shares: unmaskResponseToWire(response) },
        { context: { ...context, consistency: { ...sets, signatures: verified } } },
      ),
    );
  }
}
