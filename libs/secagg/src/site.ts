/**
 * The site (client) side of SecAgg+ as a pure state machine: each method takes the message the
 * coordinator relayed and returns the message to send back, advancing one explicit stage. It does
 * no I/O. Bonawitz et al., CCS 2017, §4 and Fig. 4; neighbourhoods from Bell et al., CCS 2020, §3.
 */
import { type SecAggConfig, neighbourGraph, ringBits, shareX, validateConfig } from './config';
import { boxSharedKey, x25519PublicKey } from './curve';
import { openShare, sealShare, signAdvert, verifyAdvert } from './envelope';
import { ForgedKeyError, InsufficientSitesError, ShareRejectedError, StageError } from './errors';
import { pairMask, reduceToRing, selfMask } from './masks';
import { applyMasks } from './prg';
import type {
  KeyAdvertisement,
  KeyRoster,
  MaskedInput,
  SealedShare,
  ShareDelivery,
  UnmaskRequest,
  UnmaskResponse,
} from './messages';
import { bytesEqual } from './bytes';
import { planUnmask } from './site-unmask';
import { cryptoRandom, randomBytes, type RandomSource } from './random';
import { shamirSplit } from './shamir';
import type { HeldShare, PeerKeys, SiteStage, SiteState } from './site-state';

/** What a site needs to take part in a round. */
export interface SecAggSiteOptions {
  readonly config: SecAggConfig;
  readonly siteId: number;
  /** The site's long-term Ed25519 identity secret key, 64 bytes (tweetnacl layout: seed || public key). */
  readonly identitySecretKey: Uint8Array;
  /** Every invited site's Ed25519 identity public key (32 bytes), by site id, from enrolment. */
  readonly identityKeys: ReadonlyMap<number, Uint8Array>;
  /** Randomness for keys, seeds, shares and nonces; defaults to the OS CSPRNG. */
  readonly random?: RandomSource;
}

/** One site's part in one secure-aggregation round. */
export class SecAggSite {
  private current: SiteState;
  private readonly config: SecAggConfig;
  private readonly graph: ReadonlyMap<number, readonly number[]>;
  private readonly random: RandomSource;
  private readonly identitySecretKey: Uint8Array;
  private readonly identityKeys: ReadonlyMap<number, Uint8Array>;

  /** Starts a round: draws fresh round keys and the self-mask seed. */
  static create(options: SecAggSiteOptions): SecAggSite {
    validateConfig(options.config);
    shareX(options.config, options.siteId);
    const random = options.random ?? cryptoRandom;
    const state: SiteState = {
      stage: 'created',
      siteId: options.siteId,
      sealSecret: randomBytes(random, 32),
      maskSecret: randomBytes(random, 32),
      seed: randomBytes(random, 32),
      peers: {},
      held: {},
      maskedWith: [],
      revealed: {},
    };
    return new SecAggSite(options, state);
  }

  /** Resumes from a state previously read from `state`. */
  static resume(options: SecAggSiteOptions, state: SiteState): SecAggSite {
    validateConfig(options.config);
    return new SecAggSite(options, state);
  }

  private constructor(options: SecAggSiteOptions, state: SiteState) {
    this.config = options.config;
    this.graph = neighbourGraph(options.config);
    this.current = state;
    this.random = options.random ?? cryptoRandom;
    this.identitySecretKey = options.identitySecretKey;
    this.identityKeys = options.identityKeys;
  }

  /** The current stage. */
  get stage(): SiteStage {
    return this.current.stage;
  }

  /** A snapshot of the state for persistence (contains secrets). */
  get state(): SiteState {
    return this.current;
  }

  /**
   * Round 4: reveals key shares of dropped neighbours and seed shares of surviving ones, after
   * the checks of `planUnmask` (throws UnmaskRefusedError and reveals nothing if any fails).
   * Stage masked -> unmasked; a repeated request is answered again under the same rules.
   */
  unmask(request: UnmaskRequest): UnmaskResponse {
    if (this.current.stage !== 'masked' && this.current.stage !== 'unmasked') this.expectStage('masked');
    const { response, revealed } = planUnmask(this.config, this.graph, this.current, request);
    this.current = { ...this.current, stage: 'unmasked', revealed };
    return response;
  }

  private expectStage(stage: SiteStage): void {
    if (this.current.stage !== stage) {
      throw new StageError(`site ${this.current.siteId} is at stage '${this.current.stage}', not '${stage}'`);
    }
  }

  /** Round 0: the signed advertisement of our two round public keys. Stage created -> advertised. */
  advertiseKeys(): KeyAdvertisement {
    this.expectStage('created');
    const s = this.current;
    const advert = signAdvert(
      this.config.roundId,
      s.siteId,
      x25519PublicKey(s.sealSecret),
      x25519PublicKey(s.maskSecret),
      this.identitySecretKey,
    );
    this.current = { ...s, stage: 'advertised' };
    return advert;
  }

  /**
   * Round 1: verifies every advertisement in the roster against the senders' identity keys
   * (throws ForgedKeyError on the first that fails), then Shamir-shares our mask secret and seed
   * among our neighbours in the roster and seals each share for its recipient. Stage -> shared.
   */
  shareKeys(roster: KeyRoster): SealedShare[] {
    this.expectStage('advertised');
    const s = this.current;
    const peers = this.verifyRoster(roster);
    const neighbours = Object.keys(peers).map(Number);
    if (neighbours.length < this.config.threshold) {
      throw new InsufficientSitesError(
        `only ${neighbours.length} neighbours advertised keys; threshold is ${this.config.threshold}`,
      );
    }
    const xs = neighbours.map((v) => shareX(this.config, v));
    const keyShares = shamirSplit(s.maskSecret, xs, this.config.threshold, this.random);
    const seedShares = shamirSplit(s.seed, xs, this.config.threshold, this.random);
    const sealed = neighbours.map((to, i) =>
      sealShare(
        {
          roundId: this.config.roundId,
          from: s.siteId,
          to,
          x: xs[i] as number,
          keyShare: (keyShares[i] as { y: Uint8Array }).y,
          seedShare: (seedShares[i] as { y: Uint8Array }).y,
        },
        boxSharedKey(s.sealSecret, (peers[to] as PeerKeys).sealPublicKey),
        this.random,
      ),
    );
    this.current = { ...s, stage: 'shared', peers };
    return sealed;
  }

  private verifyRoster(roster: KeyRoster): Record<number, PeerKeys> {
    const s = this.current;
    const { roundId } = this.config;
    if (roster.roundId !== roundId) throw new ForgedKeyError(`roster is for round '${roster.roundId}'`);
    const mine = new Set(this.graph.get(s.siteId));
    const peers: Record<number, PeerKeys> = {};
    const ownMaskKey = x25519PublicKey(s.maskSecret);
    let sawSelf = false;
    for (const advert of roster.adverts) {
      // Only our neighbours' keys and our own affect us; the coordinator verified all of them.
      if (advert.siteId !== s.siteId && !mine.has(advert.siteId)) continue;
      const identity = this.identityKeys.get(advert.siteId);
      if (!identity || !verifyAdvert(advert, roundId, identity)) {
        throw new ForgedKeyError(`round keys of site ${advert.siteId} do not verify`);
      }
      if (advert.siteId === s.siteId) {
        sawSelf = bytesEqual(advert.maskPublicKey, ownMaskKey);
      } else if (mine.has(advert.siteId)) {
        if (peers[advert.siteId])
          throw new ForgedKeyError(`site ${advert.siteId} appears twice in the roster`);
        peers[advert.siteId] = { sealPublicKey: advert.sealPublicKey, maskPublicKey: advert.maskPublicKey };
      }
    }
    if (!sawSelf) throw new ForgedKeyError('the roster does not carry our own round keys');
    return peers;
  }

  /**
   * Round 2: opens the shares addressed to us (throws ShareRejectedError on a tampered,
   * re-routed, wrong-round or missing share), then masks `input` (entries in [0, maxInput],
   * length d) with our self mask and the pairwise masks of neighbours that shared. Stage -> masked.
   * With `inPlace`, `input` itself is overwritten with the masked vector and returned in the message.
   */
  maskInput(delivery: ShareDelivery, input: Uint32Array, options: { inPlace?: boolean } = {}): MaskedInput {
    this.expectStage('shared');
    this.checkInput(input);
    const s = this.current;
    const { held, maskedWith } = this.openDelivery(delivery);
    // In place, the caller's buffer becomes the masked vector: no fresh 4 MB allocation per round.
    const vector = options.inPlace ? input : input.slice();
    const { roundId } = this.config;
    applyMasks(vector, [
      selfMask(roundId, s.siteId, s.seed, 1),
      ...maskedWith.map((v) =>
        pairMask(roundId, s.siteId, v, s.maskSecret, (s.peers[v] as PeerKeys).maskPublicKey, 1),
      ),
    ]);
    reduceToRing(vector, ringBits(this.config));
    this.current = { ...s, stage: 'masked', held, maskedWith };
    return { roundId: this.config.roundId, from: s.siteId, vector };
  }

  private checkInput(input: Uint32Array): void {
    if (!(input instanceof Uint32Array)) throw new TypeError("'input' must be a Uint32Array");
    if (input.length !== this.config.length)
      throw new RangeError(`'input' must have length ${this.config.length}`);
    const max = this.config.maxInput;
    // Signed entries are two's complement: valid if v <= max or v >= 2^bits - max.
    const low = this.config.signed ? 2 ** ringBits(this.config) - max : Infinity;
    for (let i = 0; i < input.length; i++) {
      const v = input[i] as number;
      if (v > max && (v < low || v >= 2 ** ringBits(this.config))) {
        throw new RangeError(`'input'[${i}] is outside the allowed range (maxInput ${max})`);
      }
    }
  }

  private openDelivery(delivery: ShareDelivery): { held: Record<number, HeldShare>; maskedWith: number[] } {
    const s = this.current;
    const { roundId } = this.config;
    if (delivery.roundId !== roundId || delivery.to !== s.siteId) {
      throw new ShareRejectedError(
        `delivery for round '${delivery.roundId}', site ${delivery.to} reached site ${s.siteId}`,
      );
    }
    if (!delivery.sharers.includes(s.siteId)) throw new StageError('the coordinator says we did not share');
    const held: Record<number, HeldShare> = {};
    for (const sealed of delivery.shares) {
      const peer = s.peers[sealed.from];
      if (!peer)
        throw new ShareRejectedError(`share from site ${sealed.from}, which is not a neighbour with keys`);
      if (held[sealed.from]) throw new ShareRejectedError(`second share from site ${sealed.from}`);
      const p = openShare(sealed, boxSharedKey(s.sealSecret, peer.sealPublicKey), { roundId, to: s.siteId });
      if (p.x !== shareX(this.config, s.siteId))
        throw new ShareRejectedError(`share from site ${sealed.from} has x ${p.x}`);
      held[sealed.from] = { x: p.x, keyShare: p.keyShare, seedShare: p.seedShare };
    }
    const maskedWith = delivery.sharers.filter((v) => s.peers[v] !== undefined).sort((a, b) => a - b);
    const missing = maskedWith.filter((v) => !held[v]);
    if (missing.length > 0)
      throw new ShareRejectedError(`no share from sharing neighbours ${missing.join(', ')}`);
    if (Object.keys(held).length !== maskedWith.length)
      throw new ShareRejectedError('shares from sites that did not share');
    return { held, maskedWith };
  }
}

export type { SiteStage, SiteState };
