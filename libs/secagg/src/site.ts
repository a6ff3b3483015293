// Over the ~300-line guide on purpose: the SecAgg+ site state machine is one class whose stages
// share private state; splitting it would expose that state between files.
/**
 * The site (client) side of SecAgg+ as a pure state machine: each method takes the message the
 * coordinator relayed and returns the message to send back, advancing one explicit stage. It does
 * no I/O. Bonawitz et al., CCS 2017, §4 and Fig. 4; neighbourhoods from Bell et al., CCS 2020, §3.
 */
import { type SecAggConfig, neighbourGraph, ringBits, shareX, survivorFloor, validateConfig } from './config';
import { consistencyQuorum, sharersBytes, signWith, survivorsBytes } from './consistency';
import { boxSharedKey, x25519PublicKey } from './curve';
import { openShare, sealShare, signAdvert } from './envelope';
import { ForgedKeyError, InsufficientSitesError, ShareRejectedError, StageError } from './errors';
import { pairMask, reduceToRing, selfMask } from './masks';
import { applyMasks } from './prg';
import { rosterGraphSeed } from './graph-seed';
import type {
  KeyAdvertisement,
  KeyRoster,
  MaskedInput,
  SealedShare,
  ShareDelivery,
  SurvivorSet,
  SurvivorSignature,
  UnmaskRequest,
  UnmaskResponse,
} from './messages';
import { bytesEqual } from './bytes';
import { checkSurvivorSet, planUnmask } from './site-unmask';
import { cryptoRandom, randomBytes, type RandomSource } from './random';
import { shamirSplit } from './shamir';
import { directSignatureChecks, type SignatureChecks } from './signature-checks';
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
  /**
   * How many other invited sites this site assumes may collude with the coordinator (C, default
   * 0). It raises the consistency quorum to more than (n + C) / 2 signatures (consistency.ts).
   */
  readonly colluders?: number;
  /**
   * How signatures are checked (default: each one verified fresh). A simulator hosting many sites
   * in one process passes one `sharedSignatureChecks()` to all of them (signature-checks.ts).
   */
  readonly signatureChecks?: SignatureChecks;
}

/** One site's part in one secure-aggregation round. */
export class SecAggSite {
  private current: SiteState;
  private readonly config: SecAggConfig;
  private cachedGraph: ReadonlyMap<number, readonly number[]> | null = null;
  private readonly random: RandomSource;
  private readonly quorum: number;
  private readonly identitySecretKey: Uint8Array;
  private readonly identityKeys: ReadonlyMap<number, Uint8Array>;
  private readonly checks: SignatureChecks;

  /** Starts a round: draws fresh round keys and the self-mask seed. */
  static create(options: SecAggSiteOptions): SecAggSite {
    validateConfig(options.config);
    if (!options.config.siteIds.includes(options.siteId))
      throw new RangeError(`site ${options.siteId} is not in 'siteIds'`);
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
      graphSeed: null,
      advertised: [],
      sharers: [],
      signedSurvivors: null,
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
    this.quorum = consistencyQuorum(options.config, options.colluders ?? 0);
    this.current = state;
    this.random = options.random ?? cryptoRandom;
    this.identitySecretKey = options.identitySecretKey;
    this.identityKeys = options.identityKeys;
    this.checks = options.signatureChecks ?? directSignatureChecks;
  }

  /** The current stage. */
  get stage(): SiteStage {
    return this.current.stage;
  }

  /** A snapshot of the state for persistence (contains secrets). */
  get state(): SiteState {
    return this.current;
  }

  // The graph follows from the roster (graph-seed.ts), so it exists from round 1 on.
  private get graph(): ReadonlyMap<number, readonly number[]> {
    const seed = this.current.graphSeed;
    if (!seed) throw new StageError(`site ${this.current.siteId} has not verified a roster yet`);
    this.cachedGraph ??= neighbourGraph(this.config, seed);
    return this.cachedGraph;
  }

  /**
   * Round 3 (ConsistencyCheck, Bonawitz et al. CCS 2017, Fig. 4): signs the survivor set U3 and
   * dropped set U2 \ U3 the coordinator announced, after `checkSurvivorSet` (they partition
   * exactly the sharer set we masked against, we survived, at least max(t, minSurvivors)
   * survived). A site signs one set per round: asked again with the same sets it returns the
   * same signature, with other sets it throws UnmaskRefusedError. Stage masked -> consistent.
   */
  signSurvivors(set: SurvivorSet): SurvivorSignature {
    const s = this.current;
    if (s.stage !== 'masked' && s.stage !== 'consistent') this.expectStage('masked');
    const survivors = checkSurvivorSet(this.config, s, set, this.quorum);
    const seed = s.graphSeed as Uint8Array;
    const signature = signWith(
      survivorsBytes(this.config.roundId, seed, survivors, set.dropped),
      this.identitySecretKey,
    );
    if (s.stage === 'masked') this.current = { ...s, stage: 'consistent', signedSurvivors: survivors };
    return { roundId: this.config.roundId, from: s.siteId, signature };
  }

  /**
   * Round 4: reveals key shares of dropped neighbours and seed shares of surviving ones, after
   * the checks of `planUnmask` (among them: the sets are the ones we signed, a quorum of
   * survivors signed them too, each survivor whose seed we reveal signed our sharer set U2);
   * throws UnmaskRefusedError and reveals nothing if any fails. Stage consistent -> unmasked; a
   * repeated request is answered again under the same rules.
   */
  unmask(request: UnmaskRequest): UnmaskResponse {
    if (this.current.stage !== 'consistent' && this.current.stage !== 'unmasked')
      this.expectStage('consistent');
    const { response, revealed } = planUnmask(
      {
        config: this.config,
        graph: this.graph,
        identityKeys: this.identityKeys,
        quorum: this.quorum,
        checks: this.checks,
      },
      this.current,
      request,
    );
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
    const peers = this.verifyRoster(roster);
    const s = this.current;
    const neighbours = Object.keys(peers).map(Number);
    if (neighbours.length < this.config.threshold) {
      throw new InsufficientSitesError(
        `only ${neighbours.length} neighbours advertised keys; threshold is ${this.config.threshold}`,
      );
    }
    const xs = neighbours.map((v) => shareX(this.graph, s.siteId, v));
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

  // Every advertisement is verified, not only our neighbours': all of them go into the graph
  // seed, and an unverified one would let the coordinator pick the seed through it (finding 6).
  private verifyRoster(roster: KeyRoster): Record<number, PeerKeys> {
    const s = this.current;
    const { roundId } = this.config;
    if (roster.roundId !== roundId) throw new ForgedKeyError(`roster is for round '${roster.roundId}'`);
    const seen = new Set<number>();
    const invited = new Set(this.config.siteIds);
    for (const advert of roster.adverts) {
      const identity = this.identityKeys.get(advert.siteId);
      if (!invited.has(advert.siteId) || !identity)
        throw new ForgedKeyError(`the roster lists site ${advert.siteId}, which is not invited`);
      if (seen.has(advert.siteId))
        throw new ForgedKeyError(`site ${advert.siteId} appears twice in the roster`);
      seen.add(advert.siteId);
      if (!this.checks.advert(advert, roundId, identity))
        throw new ForgedKeyError(`round keys of site ${advert.siteId} do not verify`);
    }
    const own = roster.adverts.find((a) => a.siteId === s.siteId);
    if (!own || !bytesEqual(own.maskPublicKey, x25519PublicKey(s.maskSecret)))
      throw new ForgedKeyError('the roster does not carry our own round keys');
    const graphSeed = rosterGraphSeed(roundId, roster.adverts);
    this.cachedGraph = null;
    this.current = { ...s, graphSeed, advertised: [...seen].sort((a, b) => a - b) };
    const mine = new Set(this.graph.get(s.siteId));
    const peers: Record<number, PeerKeys> = {};
    for (const advert of roster.adverts) {
      if (mine.has(advert.siteId))
        peers[advert.siteId] = { sealPublicKey: advert.sealPublicKey, maskPublicKey: advert.maskPublicKey };
    }
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
    const { held, maskedWith, sharers } = this.openDelivery(delivery);
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
    const sharersSignature = signWith(
      sharersBytes(roundId, s.graphSeed as Uint8Array, sharers),
      this.identitySecretKey,
    );
    this.current = { ...s, stage: 'masked', held, maskedWith, sharers };
    return { roundId, from: s.siteId, vector, sharersSignature };
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

  private openDelivery(delivery: ShareDelivery): {
    held: Record<number, HeldShare>;
    maskedWith: number[];
    sharers: number[];
  } {
    const s = this.current;
    const { roundId } = this.config;
    if (delivery.roundId !== roundId || delivery.to !== s.siteId) {
      throw new ShareRejectedError(
        `delivery for round '${delivery.roundId}', site ${delivery.to} reached site ${s.siteId}`,
      );
    }
    const sharers = checkSharers(this.config, s, delivery.sharers);
    const held: Record<number, HeldShare> = {};
    for (const sealed of delivery.shares) {
      const peer = s.peers[sealed.from];
      if (!peer)
        throw new ShareRejectedError(`share from site ${sealed.from}, which is not a neighbour with keys`);
      if (held[sealed.from]) throw new ShareRejectedError(`second share from site ${sealed.from}`);
      const p = openShare(sealed, boxSharedKey(s.sealSecret, peer.sealPublicKey), { roundId, to: s.siteId });
      if (p.x !== shareX(this.graph, sealed.from, s.siteId))
        throw new ShareRejectedError(`share from site ${sealed.from} has x ${p.x}`);
      held[sealed.from] = { x: p.x, keyShare: p.keyShare, seedShare: p.seedShare };
    }
    const maskedWith = sharers.filter((v) => s.peers[v] !== undefined);
    // Bonawitz et al. CCS 2017, Fig. 4, round 2: with fewer than t sharing neighbours our input
    // would be protected by our self mask alone, and t neighbours would hold its seed.
    if (maskedWith.length < this.config.threshold)
      throw new ShareRejectedError(
        `only ${maskedWith.length} of our neighbours shared (${maskedWith.join(', ') || 'none'}); threshold is ${this.config.threshold}`,
      );
    const missing = maskedWith.filter((v) => !held[v]);
    if (missing.length > 0)
      throw new ShareRejectedError(`no share from sharing neighbours ${missing.join(', ')}`);
    if (Object.keys(held).length !== maskedWith.length)
      throw new ShareRejectedError('shares from sites that did not share');
    return { held, maskedWith, sharers };
  }
}

/**
 * The sharer set U2 of a delivery, sorted, after checking it: distinct ids of sites in the roster
 * we verified (so invited), ourselves among them, and at least max(t, minSurvivors) of them
 * (no smaller set could ever be unmasked). Throws ShareRejectedError naming the problem.
 */
function checkSharers(config: SecAggConfig, s: SiteState, sharers: readonly number[]): number[] {
  const sorted = [...sharers].sort((a, b) => a - b);
  if (new Set(sorted).size !== sorted.length) throw new ShareRejectedError('the sharer list repeats a site');
  const advertised = new Set(s.advertised);
  const strangers = sorted.filter((v) => !advertised.has(v));
  if (strangers.length > 0)
    throw new ShareRejectedError(`sharers ${strangers.join(', ')} are not in the key roster`);
  if (!sorted.includes(s.siteId)) throw new ShareRejectedError('the coordinator says we did not share');
  const floor = survivorFloor(config);
  if (sorted.length < floor)
    throw new ShareRejectedError(`only ${sorted.length} sites shared; at least ${floor} must`);
  return sorted;
}

export type { SiteStage, SiteState };
