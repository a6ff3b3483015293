/**
 * The coordinator side of rounds, as a thin facade over one file per use case:
 * - open-round.ts: open a round (plan it, check the epsilon cap, announce it), and re-announce
 *   it to a site that reconnects;
 * - keys-stage.ts, shares-stage.ts, inputs-stage.ts, consistency-stage.ts, unmask-stage.ts:
 *   what sites send and fetch at each secure-aggregation stage; decline-round.ts: a refusal;
 * - close-stage.ts: close a stage (deadline passed, or everyone still expected answered);
 * - resume-rounds.ts: resume the open rounds after a restart.
 * The invariant they all keep: every mutation of a round runs inside `live.serialized` (one
 * writer per round), and a stage is closed only through `closeStage`, which persists the round
 * and emits what happened. The engine emits domain events (round-events.ts), never wire
 * messages: grpc/round-event-relay.ts converts them for the sites' event streams.
 */
import type { CoordinatorStore } from '@fedistill/store';
import type {
  KeyAdvertisement,
  KeyRoster,
  SealedShare,
  ShareDelivery,
  SurvivorSet,
  UnmaskRequest,
  UnmaskResponse,
} from '@fedistill/secagg';
import type { SiteService } from '../domain/site.service';
import type { Transcript } from '../domain/transcript';
import type { FederationService } from '../federation/federation.service';
import { closeExpiredStages } from './close-stage';
import { submitSurvivorSignature, survivorSet } from './consistency-stage';
import { declineRound } from './decline-round';
import { EngineContext } from './engine-context';
import { submitInput } from './inputs-stage';
import { advertiseKeys, roster } from './keys-stage';
import { openRound, pendingAnnouncements } from './open-round';
import type { QueryPlanner } from './query-planner';
import type { RoundAnnounced, RoundEventListener } from './round-events';
import { type RoundView, viewOf } from './round-view';
import { resumeRounds } from './resume-rounds';
import { delivery, sendShares } from './shares-stage';
import { submitUnmask, unmaskRequest } from './unmask-stage';

/**
 * Drives the SecAgg+ coordinator state machine with what sites send, closes each stage when
 * every expected site has answered or its deadline passes, and persists the round after every
 * transition so a restarted coordinator resumes it (or abandons it cleanly when a deadline
 * passed while it was down).
 */
export class RoundEngine {
  private readonly ctx: EngineContext;

  constructor(
    store: CoordinatorStore,
    federations: FederationService,
    sites: SiteService,
    transcript: Transcript,
    queryPlanner: QueryPlanner,
    now: () => number = Date.now,
    /** Extra time the open stage of a round resumed after a restart gets (coordinator sessions.resumeGrace). */
    private readonly resumeGraceMs = 0,
  ) {
    this.ctx = new EngineContext({ store, federations, sites, transcript, queryPlanner, now });
  }

  /** Every event the engine emits (grpc/round-event-relay.ts pushes them to the sites); must not block. */
  onEvent(listener: RoundEventListener): void {
    this.ctx.onEvent(listener);
  }

  /** Called once a distillation round is stored as completed (the student publisher listens); must not block. */
  onRoundCompleted(listener: (federationId: string, round: number) => void): void {
    this.ctx.onEvent((e) => {
      if (e.kind === 'RoundCompleted' && e.plan.kind !== 'evaluation')
        listener(e.plan.federationId, e.plan.round);
    });
  }

  /** Loads every open round from the store (after a restart). */
  resume(): Promise<number> {
    return resumeRounds(this.ctx, this.resumeGraceMs);
  }

  /** Opens the federation's next round (open-round.ts). */
  start(federationId: string, evaluate?: { studentVersion?: number }): Promise<RoundView> {
    return openRound(this.ctx, federationId, evaluate);
  }

  /** The open rounds still waiting for `site`'s keys, to announce again when it reconnects. */
  pendingAnnouncements(site: string): Promise<RoundAnnounced[]> {
    return pendingAnnouncements(this.ctx, site);
  }

  async status(federationId: string): Promise<RoundView[]> {
    await this.ctx.deps.federations.get(federationId);
    return (await this.ctx.deps.store.rounds.list(federationId))
      .map((r) => this.ctx.live.get(`${r.federationId}#${r.round}`) ?? r)
      .map((r) => viewOf(r));
  }

  /** The caller's secure-aggregation id in the round. */
  siteIdOf(site: string, federationId: string, roundNo: number): number {
    return this.ctx.find(federationId, roundNo, site).siteId;
  }

  advertiseKeys(
    site: string,
    federationId: string,
    roundNo: number,
    advert: KeyAdvertisement,
  ): Promise<void> {
    return advertiseKeys(this.ctx, site, federationId, roundNo, advert);
  }

  roster(site: string, federationId: string, roundNo: number): KeyRoster {
    return roster(this.ctx, site, federationId, roundNo);
  }

  sendShares(
    site: string,
    federationId: string,
    roundNo: number,
    shares: readonly SealedShare[],
  ): Promise<void> {
    return sendShares(this.ctx, site, federationId, roundNo, shares);
  }

  delivery(site: string, federationId: string, roundNo: number): ShareDelivery {
    return delivery(this.ctx, site, federationId, roundNo);
  }

  /** A site's masked input as sent: `length` entries packed at the round's ring width. */
  submitInput(
    site: string,
    federationId: string,
    roundNo: number,
    packed: Uint8Array,
    length: number,
    sharersSignature: Uint8Array,
  ): Promise<string> {
    const sent = {
      maskedVector: Buffer.from(packed),
      length,
      sharersSignature: Buffer.from(sharersSignature),
    };
    return submitInput(this.ctx, site, federationId, roundNo, sent);
  }

  survivorSet(site: string, federationId: string, roundNo: number): SurvivorSet {
    return survivorSet(this.ctx, site, federationId, roundNo);
  }

  submitSurvivorSignature(
    site: string,
    federationId: string,
    roundNo: number,
    signature: Uint8Array,
  ): Promise<void> {
    return submitSurvivorSignature(this.ctx, site, federationId, roundNo, signature);
  }

  unmaskRequest(site: string, federationId: string, roundNo: number): UnmaskRequest {
    return unmaskRequest(this.ctx, site, federationId, roundNo);
  }

  submitUnmask(site: string, federationId: string, roundNo: number, response: UnmaskResponse): Promise<void> {
    return submitUnmask(this.ctx, site, federationId, roundNo, response);
  }

  /** A site's reported refusal (its budget, say): recorded, and the site is not waited for. */
  decline(
    site: string,
    federationId: string,
    roundNo: number,
    reason: string,
    detail: string,
  ): Promise<void> {
    return declineRound(this.ctx, site, federationId, roundNo, reason, detail);
  }

  /** Closes every stage whose deadline passed (after a storage outage: restarts it once); called on a timer. */
  tick(): Promise<void> {
    return closeExpiredStages(this.ctx, this.resumeGraceMs);
  }
}
