import type { CoordinatorStore } from '@fedistill/store';
import type { StageName } from '@fedistill/protocol';
import { NotFoundError, PermissionError, RequestInvalidError, RoundClosedError } from '../domain/errors';
import type { SiteService } from '../domain/site.service';
import type { Transcript } from '../domain/transcript';
import type { FederationService } from '../federation/federation.service';
import type { LiveRound } from './live-round';
import type { QueryPlanner } from './query-planner';
import type { RoundEvent, RoundEventListener } from './round-events';

/** What the round engine's use cases share: its collaborators, the rounds in memory, its events. */
export interface EngineDeps {
  readonly store: CoordinatorStore;
  readonly federations: FederationService;
  readonly sites: SiteService;
  readonly transcript: Transcript;
  readonly queryPlanner: QueryPlanner;
  readonly now: () => number;
}

/**
 * The engine's state: the open rounds (`live`, by secure-aggregation round id) and the recently
 * finished ones, so a retried last request (its answer lost) is still recognized. Every use case
 * (open-round.ts, the *-stage.ts files, close-stage.ts, resume-rounds.ts) works on one of these.
 */
export class EngineContext {
  readonly live = new Map<string, LiveRound>();
  readonly finished = new Map<string, LiveRound>();
  private readonly listeners: RoundEventListener[] = [];

  constructor(readonly deps: EngineDeps) {}

  now(): number {
    return this.deps.now();
  }

  onEvent(listener: RoundEventListener): void {
    this.listeners.push(listener);
  }

  /** Tells every listener; listeners must not block (they queue their own work). */
  emit(event: RoundEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Each participant's enrolled Ed25519 identity key, by its secure-aggregation id. */
  async identityKeys(participants: LiveRound['plan']['participants']): Promise<Map<number, Uint8Array>> {
    const keys = new Map<number, Uint8Array>();
    for (const p of participants) {
      const site = await this.deps.store.sites.get(p.siteName);
      if (site) keys.set(p.siteId, site.signingPublicKey);
    }
    return keys;
  }

  /** The round (open or recently finished) and `site`'s id in it; NotFound / PermissionError otherwise. */
  find(federationId: string, round: number, site: string): { live: LiveRound; siteId: number } {
    const key = `${federationId}#${round}`;
    const live = this.live.get(key) ?? this.finished.get(key);
    if (!live) throw new NotFoundError(`federation '${federationId}' has no open round ${round}`);
    const siteId = live.participant(site);
    if (siteId === undefined)
      throw new PermissionError(`site '${site}' is not a participant of round ${round}`);
    return { live, siteId };
  }

  /** Moves an ended round from the open ones to the recently finished (the last 100 are kept). */
  retire(live: LiveRound): void {
    this.live.delete(live.plan.config.roundId);
    this.finished.set(live.plan.config.roundId, live);
    if (this.finished.size > 100) this.finished.delete(this.finished.keys().next().value ?? '');
  }
}

/** A stage output that a finished round never produced will not come: say so instead of "not ready". */
export function expectOpenOr(live: LiveRound, output: unknown): void {
  if (!output && live.status !== 'open')
    throw new RoundClosedError(`round ${live.plan.round} was ${live.status}: ${live.reason ?? ''}`);
}

export function expectStage(live: LiveRound, stage: StageName): void {
  if (live.stage !== stage)
    throw new RequestInvalidError(
      `round ${live.plan.round} is at stage '${live.stage ?? live.status}', not '${stage}'`,
    );
}
