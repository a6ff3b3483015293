// Just over the ~300-line guide: the SecAgg+ coordinator state machine is one class whose stages
// share private state; the pure helpers already live in their own files.
/**
 * The coordinator (server) side of SecAgg+ as a pure state machine: `receive*` methods accept
 * one site's message (throwing a SecAggError to refuse it), `close*` methods end a stage at its
 * deadline and return what to relay. It never sees an input unmasked, keeps O(d) memory (a
 * running masked sum), and its whole state is plain data that can be persisted and resumed.
 * Bonawitz et al., CCS 2017, §4; Bell et al., CCS 2020, §3.
 */
import { type SecAggConfig, neighbourGraph, ringBits, survivorFloor, validateConfig } from './config';
import { consistencyQuorum, sharersBytes, survivorsBytes, verifiedSigners } from './consistency';
import { rosterGraphSeed } from './graph-seed';
import { type CoordinatorStage, type CoordinatorState, initialCoordinatorState } from './coordinator-state';
import { reconstructSum } from './coordinator-unmask';
import {
  deliveriesOf,
  droppedOf,
  type PublishedOutputs,
  publishedOutputs,
  rosterOf,
  survivorSetsOf,
  unmaskRequestsOf,
} from './coordinator-outputs';
import { verifyAdvert } from './envelope';
import { addInto } from './prg';
import { wouldIsolate } from './masks';
import { ForgedKeyError, ShareRejectedError, StageError } from './errors';
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

/** What the coordinator needs for one round. */
export interface SecAggCoordinatorOptions {
  readonly config: SecAggConfig;
  /** Every invited site's Ed25519 identity public key (32 bytes), by site id. */
  readonly identityKeys: ReadonlyMap<number, Uint8Array>;
}

/** The outcome of a finished round. */
export type SecAggOutcome =
  | { readonly status: 'done'; readonly sum: Uint32Array; readonly survivors: readonly number[] }
  | { readonly status: 'abandoned'; readonly reason: string };

export class SecAggCoordinator {
  private current: CoordinatorState;
  private cachedGraph: ReadonlyMap<number, readonly number[]> | null = null;
  // The bytes every site signs in a stage, kept once built (O(n) each; a stage checks n of them).
  private signedBytes: { readonly stage: CoordinatorStage; readonly bytes: Uint8Array } | null = null;

  private constructor(
    private readonly options: SecAggCoordinatorOptions,
    state: CoordinatorState,
  ) {
    validateConfig(options.config);
    this.current = state;
  }

  // The graph follows from the roster (graph-seed.ts): it exists once the key stage closed.
  private get graph(): ReadonlyMap<number, readonly number[]> {
    const seed = this.current.graphSeed;
    if (!seed) throw new StageError('the key stage has not closed: no neighbour graph yet');
    this.cachedGraph ??= neighbourGraph(this.config, seed);
    return this.cachedGraph;
  }

  /** Opens a round in stage 'keys'. */
  static create(options: SecAggCoordinatorOptions): SecAggCoordinator {
    return new SecAggCoordinator(options, initialCoordinatorState());
  }

  /** Resumes a round from a persisted state (see `encodeState`/`decodeState`). */
  static resume(options: SecAggCoordinatorOptions, state: CoordinatorState): SecAggCoordinator {
    return new SecAggCoordinator(options, state);
  }

  /** The current state (plain data, safe to persist: it holds no secret of any site). */
  get state(): CoordinatorState {
    return this.current;
  }

  get stage(): CoordinatorStage {
    return this.current.stage;
  }

  /** What the stages closed so far published, rebuilt from the state (coordinator-outputs.ts). */
  published(): PublishedOutputs {
    return publishedOutputs(this.config, this.current);
  }

  private get config(): SecAggConfig {
    return this.options.config;
  }

  /** Stage 'keys': accepts a site's signed round keys; throws ForgedKeyError if the signature fails. */
  receiveKeys(advert: KeyAdvertisement): void {
    this.expectStage('keys');
    this.expectInvited(advert.siteId);
    if (this.current.adverts.some((a) => a.siteId === advert.siteId))
      throw new StageError(`site ${advert.siteId} already sent keys`);
    const identity = this.options.identityKeys.get(advert.siteId);
    if (!identity || !verifyAdvert(advert, this.config.roundId, identity)) {
      throw new ForgedKeyError(`round keys of site ${advert.siteId} do not verify`);
    }
    this.current = { ...this.current, adverts: [...this.current.adverts, advert] };
  }

  /** Ends stage 'keys': the roster to broadcast, or undefined if fewer than t sites remain (abandoned). */
  closeKeys(): KeyRoster | undefined {
    this.expectStage('keys');
    const count = this.current.adverts.length;
    // Fewer than the survivor floor can never be unmasked: stop now rather than at the last stage.
    if (this.abandonIfBelow(count, 'advertised keys', survivorFloor(this.config))) return undefined;
    const graphSeed = rosterGraphSeed(this.config.roundId, this.current.adverts);
    this.current = { ...this.current, stage: 'shares', graphSeed };
    return rosterOf(this.config, this.current);
  }

  /**
   * Stage 'shares': accepts the sealed shares of `from`, exactly one for each of its neighbours
   * in the roster. The coordinator cannot open them; it checks their routing only.
   */
  receiveShares(from: number, shares: readonly SealedShare[]): void {
    this.expectStage('shares');
    if (!this.current.adverts.some((a) => a.siteId === from))
      throw new StageError(`site ${from} did not advertise keys`);
    if (this.current.sharers.includes(from)) throw new StageError(`site ${from} already sent shares`);
    const inRoster = new Set(this.current.adverts.map((a) => a.siteId));
    const expected = (this.graph.get(from) ?? []).filter((v) => inRoster.has(v));
    const seen = new Set<number>();
    for (const share of shares) {
      if (share.roundId !== this.config.roundId)
        throw new ShareRejectedError(`share from site ${from} is for round '${share.roundId}'`);
      if (share.from !== from)
        throw new ShareRejectedError(`site ${from} sent a share claiming to be from site ${share.from}`);
      if (!expected.includes(share.to) || seen.has(share.to))
        throw new ShareRejectedError(`site ${from} sent an unexpected share for site ${share.to}`);
      seen.add(share.to);
    }
    if (seen.size !== expected.length)
      throw new ShareRejectedError(`site ${from} sent ${seen.size} shares, expected ${expected.length}`);
    this.current = {
      ...this.current,
      shares: [...this.current.shares, ...shares],
      sharers: [...this.current.sharers, from],
    };
  }

  /** Ends stage 'shares': one delivery per sharing site, or undefined if fewer than t shared (abandoned). */
  closeShares(): ShareDelivery[] | undefined {
    this.expectStage('shares');
    const sharers = [...this.current.sharers].sort((a, b) => a - b);
    if (this.abandonIfBelow(sharers.length, 'shared their keys', survivorFloor(this.config)))
      return undefined;
    this.current = {
      ...this.current,
      stage: 'inputs',
      sharers,
      maskedSum: new Uint32Array(this.config.length),
    };
    return deliveriesOf(this.config, this.current);
  }

  /** Stage 'inputs': adds a sharing site's masked vector (length d, entries < 2^bits) to the running sum. */
  receiveMaskedInput(input: MaskedInput): void {
    this.expectStage('inputs');
    const { roundId, length } = this.config;
    const bits = ringBits(this.config);
    if (input.roundId !== roundId) throw new StageError(`masked input for round '${input.roundId}'`);
    if (!this.current.sharers.includes(input.from))
      throw new StageError(`site ${input.from} did not share keys`);
    if (this.current.inputs.includes(input.from))
      throw new StageError(`site ${input.from} already sent its input`);
    const attestation = { siteId: input.from, signature: input.sharersSignature };
    const bytes = this.stageBytes(() =>
      sharersBytes(roundId, this.current.graphSeed as Uint8Array, this.current.sharers),
    );
    const { good } = verifiedSigners([attestation], bytes, this.options.identityKeys, new Set([input.from]));
    if (good.size !== 1)
      throw new ForgedKeyError(`site ${input.from}'s signature over the sharer set does not verify`);
    const v = input.vector;
    if (!(v instanceof Uint32Array) || v.length !== length)
      throw new RangeError(`'vector' must be a Uint32Array of length ${length}`);
    const sum = this.current.maskedSum as Uint32Array;
    if (bits < 32) {
      const limit = 2 ** bits;
      for (let i = 0; i < length; i++) {
        if ((v[i] as number) >= limit) throw new RangeError(`'vector'[${i}] is outside Z_2^${bits}`);
      }
    }
    // One pass; storing into the Uint32Array reduces mod 2^32 (and so mod 2^bits).
    addInto(sum, v);
    this.current = {
      ...this.current,
      inputs: [...this.current.inputs, input.from],
      sharerSignatures: [...this.current.sharerSignatures, attestation],
    };
  }

  /**
   * Ends stage 'inputs': the survivor set U3 and dropped set U2 \ U3 for each survivor to sign
   * (round 3), or undefined if fewer than max(t, minSurvivors) or than the consistency quorum
   * survived, or a survivor would be isolated (abandoned).
   */
  closeInputs(): SurvivorSet[] | undefined {
    this.expectStage('inputs');
    const survivors = [...this.current.inputs].sort((a, b) => a - b);
    const floor = Math.max(survivorFloor(this.config), consistencyQuorum(this.config));
    if (this.abandonIfBelow(survivors.length, 'sent masked inputs', floor)) return undefined;
    // An honest coordinator never asks for a seed that would expose one input (sites refuse it too).
    const isolated = survivors.filter((u) => wouldIsolate(u, this.graph, new Set(survivors)));
    if (isolated.length > 0) {
      this.current = {
        ...this.ended(),
        stage: 'abandoned',
        reason: `sites ${isolated.join(', ')} have no surviving neighbour`,
      };
      return undefined;
    }
    this.current = { ...this.current, stage: 'consistency', inputs: survivors };
    return survivorSetsOf(this.config, this.current);
  }

  // What sites sign in the current stage is fixed once the stage opened (U2 in 'inputs', U3 and
  // U2 \ U3 in 'consistency'); built on first use in that stage.
  private stageBytes(build: () => Uint8Array): Uint8Array {
    if (this.signedBytes?.stage !== this.current.stage)
      this.signedBytes = { stage: this.current.stage, bytes: build() };
    return this.signedBytes.bytes;
  }

  /** Stage 'consistency': accepts a survivor's signature over (U3, U2 \ U3); throws ForgedKeyError if it fails. */
  receiveSurvivorSignature(sig: SurvivorSignature): void {
    this.expectStage('consistency');
    const s = this.current;
    if (sig.roundId !== this.config.roundId) throw new StageError(`signature for round '${sig.roundId}'`);
    if (!s.inputs.includes(sig.from)) throw new StageError(`site ${sig.from} is not a survivor`);
    if (s.signatures.some((x) => x.siteId === sig.from))
      throw new StageError(`site ${sig.from} already signed`);
    const entry = { siteId: sig.from, signature: sig.signature };
    const bytes = this.stageBytes(() =>
      survivorsBytes(this.config.roundId, s.graphSeed as Uint8Array, s.inputs, droppedOf(s)),
    );
    if (verifiedSigners([entry], bytes, this.options.identityKeys, new Set([sig.from])).good.size !== 1)
      throw new ForgedKeyError(`site ${sig.from}'s signature over the survivor set does not verify`);
    this.current = { ...s, signatures: [...s.signatures, entry] };
  }

  /**
   * Ends stage 'consistency': one unmask request per survivor that signed, carrying every
   * signature collected and each survivor's signature over U2; undefined if fewer than the
   * consistency quorum signed (abandoned: no site would reveal anything).
   */
  closeConsistency(): UnmaskRequest[] | undefined {
    this.expectStage('consistency');
    const s = this.current;
    if (this.abandonIfBelow(s.signatures.length, 'signed the survivor set', consistencyQuorum(this.config)))
      return undefined;
    this.current = { ...s, stage: 'unmask' };
    return unmaskRequestsOf(this.config, this.current);
  }

  /** Stage 'unmask': accepts one signer's revealed shares (checked when the round finishes). */
  receiveUnmask(response: UnmaskResponse): void {
    this.expectStage('unmask');
    if (response.roundId !== this.config.roundId)
      throw new StageError(`unmask response for round '${response.roundId}'`);
    if (!this.current.signatures.some((x) => x.siteId === response.from))
      throw new StageError(`site ${response.from} did not sign the survivor set`);
    if (this.current.responses.some((r) => r.from === response.from))
      throw new StageError(`site ${response.from} already answered`);
    this.current = { ...this.current, responses: [...this.current.responses, response] };
  }

  /**
   * Ends stage 'unmask': rebuilds the dropped sites' mask keys and the survivors' seeds from at
   * least t shares each and returns the exact sum of the survivors' inputs; abandons the round
   * (nothing revealed, reason recorded) if any secret has fewer than t shares or does not check.
   */
  finish(): SecAggOutcome {
    this.expectStage('unmask');
    const outcome = reconstructSum(this.config, this.graph, this.current);
    if (outcome.status === 'abandoned') {
      this.current = { ...this.ended(), stage: 'abandoned', reason: outcome.reason };
    } else {
      this.current = { ...this.ended(), stage: 'done', result: outcome.sum };
    }
    return outcome;
  }

  private abandonIfBelow(count: number, what: string, floor = this.config.threshold): boolean {
    if (count >= floor) return false;
    const reason = `only ${count} sites ${what}; threshold is ${floor}`;
    this.current = { ...this.ended(), stage: 'abandoned', reason };
    return true;
  }

  /**
   * The state without what only an open round needs: the running masked sum, the sealed shares
   * and the revealed unmask shares. A finished round keeps no share of any site's secrets (data
   * minimization: nothing reads them once the round ended), and its stored record shrinks from
   * O(n·k) shares to the ids, keys and signatures that say who took part.
   */
  private ended(): CoordinatorState {
    return { ...this.current, maskedSum: null, shares: [], responses: [] };
  }

  private expectStage(stage: CoordinatorStage): void {
    if (this.current.stage !== stage)
      throw new StageError(`round is at stage '${this.current.stage}', not '${stage}'`);
  }

  private expectInvited(siteId: number): void {
    if (!this.config.siteIds.includes(siteId))
      throw new StageError(`site ${siteId} is not invited to this round`);
  }
}
