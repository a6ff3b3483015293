// Over the ~300-line guide on purpose: RoundEngine is the one writer of every open round. Each
// RPC handler mutates a round only inside `live.serialized` and closes the stage through
// `closeStage`; keeping the handlers and the stage transitions in one class keeps that invariant
// visible in one place. Pure parts live beside it: live-round.ts (state, deadlines, who is still
// expected), epsilon-cap.ts, and @fedistill/protocol (plan, announcement).
import { createHash } from 'node:crypto';
import type { NodeEvent } from '@fedistill/wire';
import type { CoordinatorStore } from '@fedistill/store';
import {
  type KeyAdvertisement,
  type KeyRoster,
  type MaskedInput,
  SecAggCoordinator,
  type SealedShare,
  type ShareDelivery,
  type SurvivorSet,
  type UnmaskRequest,
  type UnmaskResponse,
  unpackWords,
} from '@fedistill/secagg';
import {
  NotFoundError,
  PermissionError,
  RequestInvalidError,
  RoundClosedError,
  StageNotReadyError,
} from '../domain/errors';
import type { NodeEventHub } from '../domain/node-event-hub';
import type { SiteService } from '../domain/site.service';
import type { Transcript } from '../domain/transcript';
import type { FederationService } from '../federation/federation.service';
import { checkEpsilonCap } from './epsilon-cap';
import { LiveRound } from './live-round';
import { announcementEvent, WIRE_STAGE } from '@fedistill/protocol';
import { planEvaluationRound, planRound, type RoundPlan, type StageName } from '@fedistill/protocol';
import { type RoundView, viewOf } from './round-view';

/**
 * The coordinator side of rounds: it drives the SecAgg+ coordinator state machine with what
 * sites send over gRPC, closes each stage when every expected site has answered or its deadline
 * passes, and persists the round after every transition so a restarted coordinator resumes it
 * (or abandons it cleanly when a deadline passed while it was down).
 */
export class RoundEngine {
  private readonly live = new Map<string, LiveRound>();
  /** Recently finished rounds, so a retried last request (its answer lost) is still recognized. */
  private readonly finished = new Map<string, LiveRound>();
  private readonly completionListeners: Array<(federationId: string, round: number) => void> = [];

  constructor(
    private readonly store: CoordinatorStore,
    private readonly federations: FederationService,
    private readonly sites: SiteService,
    private readonly hub: NodeEventHub,
    private readonly transcript: Transcript,
    private readonly now: () => number = Date.now,
  ) {}

  private async identityKeys(
    participants: LiveRound['plan']['participants'],
  ): Promise<Map<number, Uint8Array>> {
    const keys = new Map<number, Uint8Array>();
    for (const p of participants) {
      const site = await this.store.sites.get(p.siteName);
      if (site) keys.set(p.siteId, site.signingPublicKey);
    }
    return keys;
  }

  /** Called once a round is stored as completed (the student publisher listens); must not block. */
  onRoundCompleted(listener: (federationId: string, round: number) => void): void {
    this.completionListeners.push(listener);
  }

  /** Loads every open round from the store (after a restart). */
  async resume(): Promise<number> {
    for (const record of await this.store.rounds.open()) {
      const engineState = JSON.parse(record.engine) as { plan: LiveRound['plan'] };
      const round = LiveRound.fromRecord(record, await this.identityKeys(engineState.plan.participants));
      const shift = round.restartOpenStage(this.now());
      if (shift > 0) await this.store.rounds.save(round.toRecord(this.now()));
      this.live.set(`${record.federationId}#${record.round}`, round);
      await this.transcript.append({
        event: 'round',
        federation: record.federationId,
        round: String(record.round),
        detail:
          `resumed at stage ${record.stage}` +
          (shift > 0 ? `; its deadline restarted from now (+${Math.round(shift / 1000)} s)` : ''),
      });
    }
    return this.live.size;
  }

  /**
   * Opens the federation's next round with its online member sites: a distillation round, or
   * with `evaluate`, a securely aggregated evaluation of a published student (the latest when
   * `evaluate.studentVersion` is not given) on the sites' local test splits.
   */
  async start(federationId: string, evaluate?: { studentVersion?: number }): Promise<RoundView> {
    const federation = await this.federations.get(federationId);
    const online = (await this.sites.list()).filter((s) => s.online && federation.members.includes(s.name));
    const sites = online.map((s) => s.name);
    if (sites.length < federation.rounds.minSites) {
      throw new RequestInvalidError(
        `only ${sites.length} of the federation's sites are online (${sites.join(', ') || 'none'}); rounds.minSites is ${federation.rounds.minSites}`,
      );
    }
    if ((await this.store.rounds.list(federationId)).some((r) => r.status === 'open')) {
      throw new RequestInvalidError(`federation '${federationId}' already has an open round`);
    }
    const previous = await this.store.rounds.list(federationId);
    const roundNumber = (previous.at(-1)?.round ?? 0) + 1;
    const counted = previous.filter((r) => r.status !== 'abandoned').length;
    if (counted >= federation.rounds.maxRounds)
      throw new RequestInvalidError(
        `federation '${federationId}' has had its ${federation.rounds.maxRounds} rounds (rounds.maxRounds; abandoned rounds do not count)`,
      );
    let plan: RoundPlan;
    if (evaluate) {
      const student =
        evaluate.studentVersion === undefined
          ? await this.store.students.latest(federationId)
          : await this.store.students.get(federationId, evaluate.studentVersion);
      if (!student)
        throw new RequestInvalidError(
          evaluate.studentVersion === undefined
            ? `federation '${federationId}' has no published student to evaluate yet`
            : `federation '${federationId}' has no student version ${evaluate.studentVersion}`,
        );
      plan = planEvaluationRound(federation, roundNumber, online, student.version, this.now());
    } else {
      const reference = await this.federations.referenceRows(federationId);
      plan = planRound(federation, roundNumber, online, reference, this.now());
    }
    checkEpsilonCap(federation, plan, previous);
    const round = new LiveRound(
      plan,
      SecAggCoordinator.create({
        config: plan.config,
        identityKeys: await this.identityKeys(plan.participants),
      }),
      {},
      this.now(),
    );
    await this.store.rounds.create(round.toRecord(this.now()));
    this.live.set(plan.config.roundId, round);
    await this.transcript.append({
      event: 'round',
      federation: federationId,
      round: String(roundNumber),
      detail:
        plan.kind === 'evaluation'
          ? `opened with ${sites.join(', ')}; evaluation of student v${plan.studentVersion}`
          : `opened with ${sites.join(', ')}; ${plan.queries.length} queries`,
    });
    for (const p of plan.participants) this.hub.push(p.siteName, announcementEvent(plan, federation));
    return viewOf(round);
  }

  /**
   * Announcements of the open rounds that still wait for `site`'s keys (it is invited, the key
   * stage is open, and it has neither advertised keys nor declined).
   */
  async pendingAnnouncements(site: string): Promise<NodeEvent['event'][]> {
    const events: NodeEvent['event'][] = [];
    for (const live of this.live.values()) {
      const siteId = live.participant(site);
      if (siteId === undefined || live.stage !== 'keys') continue;
      if (live.coordinator.state.adverts.some((a) => a.siteId === siteId)) continue;
      if (live.declines.some((d) => d.site === site)) continue;
      events.push(announcementEvent(live.plan, await this.federations.get(live.plan.federationId)));
    }
    return events;
  }

  async status(federationId: string): Promise<RoundView[]> {
    await this.federations.get(federationId);
    return (await this.store.rounds.list(federationId))
      .map((r) => this.live.get(`${r.federationId}#${r.round}`) ?? r)
      .map((r) => viewOf(r));
  }

  private round(federationId: string, round: number, site: string): { live: LiveRound; siteId: number } {
    const live = this.live.get(`${federationId}#${round}`) ?? this.finished.get(`${federationId}#${round}`);
    if (!live) throw new NotFoundError(`federation '${federationId}' has no open round ${round}`);
    const siteId = live.participant(site);
    if (siteId === undefined)
      throw new PermissionError(`site '${site}' is not a participant of round ${round}`);
    return { live, siteId };
  }

  /** The caller's secure-aggregation id in the round. */
  siteIdOf(site: string, federationId: string, roundNo: number): number {
    return this.round(federationId, roundNo, site).siteId;
  }

  /** A stage output that a finished round never produced will not come: say so instead of "not ready". */
  private expectOpenOr(live: LiveRound, output: unknown): void {
    if (!output && live.status !== 'open')
      throw new RoundClosedError(`round ${live.plan.round} was ${live.status}: ${live.reason ?? ''}`);
  }

  private expectStage(live: LiveRound, stage: StageName): void {
    if (live.stage !== stage)
      throw new RequestInvalidError(
        `round ${live.plan.round} is at stage '${live.stage ?? live.status}', not '${stage}'`,
      );
  }

  /** Applies a state-machine call, persists, and closes the stage early when everyone answered. */
  private mutate<T>(live: LiveRound, fn: () => T): Promise<T> {
    return live.serialized(async () => {
      let result: T;
      try {
        result = fn();
      } catch (err) {
        throw new RequestInvalidError((err as Error).message);
      }
      if (live.everyoneAnswered()) await this.closeStage(live, 'everyone answered');
      else await this.store.rounds.save(live.toRecord(this.now()));
      return result;
    });
  }

  async advertiseKeys(
    site: string,
    federationId: string,
    roundNo: number,
    advert: KeyAdvertisement,
  ): Promise<void> {
    const { live, siteId } = this.round(federationId, roundNo, site);
    // A retry of a request whose answer was lost (a coordinator restart, say) is not an error.
    const earlier = live.coordinator.state.adverts.find((a) => a.siteId === siteId);
    if (earlier && Buffer.from(earlier.signature).equals(Buffer.from(advert.signature))) return;
    this.expectStage(live, 'keys');
    if (advert.siteId !== siteId)
      throw new PermissionError(`site '${site}' has id ${siteId} in this round, not ${advert.siteId}`);
    await this.mutate(live, () => live.coordinator.receiveKeys(advert));
  }

  roster(site: string, federationId: string, roundNo: number): KeyRoster {
    const { live } = this.round(federationId, roundNo, site);
    this.expectOpenOr(live, live.roster);
    if (!live.roster)
      throw new StageNotReadyError(
        `the key stage of round ${roundNo} is still open (deadline ${new Date(live.plan.deadlines.keys).toISOString()})`,
      );
    return live.roster;
  }

  async sendShares(
    site: string,
    federationId: string,
    roundNo: number,
    shares: readonly SealedShare[],
  ): Promise<void> {
    const { live, siteId } = this.round(federationId, roundNo, site);
    if (live.coordinator.state.sharers.includes(siteId)) return; // a retried request
    this.expectStage(live, 'shares');
    if (shares.some((s) => s.from !== siteId))
      throw new PermissionError(`site '${site}' may only send shares from its own id ${siteId}`);
    await this.mutate(live, () => live.coordinator.receiveShares(siteId, shares));
  }

  delivery(site: string, federationId: string, roundNo: number): ShareDelivery {
    const { live, siteId } = this.round(federationId, roundNo, site);
    const delivery = live.deliveries?.find((d) => d.to === siteId);
    this.expectOpenOr(live, live.deliveries);
    if (!live.deliveries) throw new StageNotReadyError(`the share stage of round ${roundNo} is still open`);
    if (!delivery) throw new PermissionError(`site '${site}' did not share keys in round ${roundNo}`);
    return delivery;
  }

  /** A site's masked input as sent: `length` entries packed at the round's ring width. */
  async submitInput(
    site: string,
    federationId: string,
    roundNo: number,
    packed: Uint8Array,
    length: number,
    sharersSignature: Uint8Array,
  ): Promise<string> {
    const { live, siteId } = this.round(federationId, roundNo, site);
    const receipt = createHash('sha256').update(packed).digest('hex');
    const earlier = live.receipts[siteId];
    if (earlier === receipt) return receipt; // a retried request
    if (earlier)
      throw new RequestInvalidError(`a different masked input was already accepted from site '${site}'`);
    this.expectStage(live, 'inputs');
    if (length !== live.plan.config.length) {
      throw new RequestInvalidError(
        `masked vector has ${length} entries; this round has ${live.plan.config.length}`,
      );
    }
    let vector: Uint32Array;
    try {
      vector = unpackWords(packed, length, live.plan.config.bits ?? 32);
    } catch (err) {
      throw new RequestInvalidError(`masked_vector: ${(err as Error).message}`);
    }
    const input: MaskedInput = { roundId: live.plan.config.roundId, from: siteId, vector, sharersSignature };
    await this.mutate(live, () => {
      live.coordinator.receiveMaskedInput(input);
      live.receipts[siteId] = receipt;
    });
    return receipt;
  }

  /** The survivor set a survivor is asked to sign (consistency round, Bonawitz et al. CCS 2017, Fig. 4, round 3). */
  survivorSet(site: string, federationId: string, roundNo: number): SurvivorSet {
    const { live, siteId } = this.round(federationId, roundNo, site);
    this.expectOpenOr(live, live.survivorSets);
    if (!live.survivorSets) throw new StageNotReadyError(`the input stage of round ${roundNo} is still open`);
    const set = live.survivorSets.find((x) => x.to === siteId);
    if (!set) throw new PermissionError(`site '${site}' sent no masked input in round ${roundNo}`);
    return set;
  }

  async submitSurvivorSignature(
    site: string,
    federationId: string,
    roundNo: number,
    signature: Uint8Array,
  ): Promise<void> {
    const { live, siteId } = this.round(federationId, roundNo, site);
    const earlier = live.coordinator.state.signatures.find((x) => x.siteId === siteId);
    if (earlier && Buffer.from(earlier.signature).equals(Buffer.from(signature))) return; // a retried request
    this.expectStage(live, 'consistency');
    await this.mutate(live, () =>
      live.coordinator.receiveSurvivorSignature({
        roundId: live.plan.config.roundId,
        from: siteId,
        signature,
      }),
    );
  }

  unmaskRequest(site: string, federationId: string, roundNo: number): UnmaskRequest {
    const { live, siteId } = this.round(federationId, roundNo, site);
    this.expectOpenOr(live, live.unmaskRequests);
    if (!live.unmaskRequests)
      throw new StageNotReadyError(`the consistency stage of round ${roundNo} is still open`);
    const request = live.unmaskRequests.find((r) => r.to === siteId);
    if (!request)
      throw new PermissionError(`site '${site}' did not sign the survivor set of round ${roundNo}`);
    return request;
  }

  async submitUnmask(
    site: string,
    federationId: string,
    roundNo: number,
    response: UnmaskResponse,
  ): Promise<void> {
    const { live, siteId } = this.round(federationId, roundNo, site);
    if (live.coordinator.state.responses.some((r) => r.from === siteId)) return; // a retried request
    this.expectStage(live, 'unmask');
    if (response.from !== siteId)
      throw new PermissionError(`site '${site}' may only answer for its own id ${siteId}`);
    await this.mutate(live, () => live.coordinator.receiveUnmask(response));
  }

  /** A site's reported refusal (its budget, say): recorded, and the site is not waited for. */
  async decline(
    site: string,
    federationId: string,
    roundNo: number,
    reason: string,
    detail: string,
  ): Promise<void> {
    const { live } = this.round(federationId, roundNo, site);
    await live.serialized(async () => {
      live.declines.push({ site, reason, detail });
      await this.transcript.append({
        event: 'received',
        federation: federationId,
        round: String(roundNo),
        peer: site,
        kind: 'Rounds/DeclineRound',
        detail: `${reason}: ${detail}`,
      });
      if (live.stage && live.everyoneAnswered()) await this.closeStage(live, 'everyone answered or declined');
      else await this.store.rounds.save(live.toRecord(this.now()));
    });
  }

  /** Closes every stage whose deadline passed; called on a timer. */
  async tick(): Promise<void> {
    for (const live of [...this.live.values()]) {
      const stage = live.stage;
      if (stage && this.now() > live.plan.deadlines[stage]) {
        await live.serialized(() =>
          live.stage === stage ? this.closeStage(live, 'deadline passed') : Promise.resolve(),
        );
      }
    }
  }

  private async closeStage(live: LiveRound, why: string): Promise<void> {
    const c = live.coordinator;
    const stage = live.stage;
    if (stage === 'keys') live.roster = c.closeKeys() ?? null;
    else if (stage === 'shares') live.deliveries = c.closeShares() ?? null;
    else if (stage === 'inputs') live.survivorSets = c.closeInputs() ?? null;
    else if (stage === 'consistency') live.unmaskRequests = c.closeConsistency() ?? null;
    else if (stage === 'unmask') c.finish();
    const fed = live.plan.federationId;
    const roundNo = String(live.plan.round);
    if (c.stage === 'done' || c.stage === 'abandoned') {
      live.status = c.stage === 'done' ? 'completed' : 'abandoned';
      live.reason = c.state.reason;
      this.live.delete(live.plan.config.roundId);
      this.finished.set(live.plan.config.roundId, live);
      if (this.finished.size > 100) this.finished.delete(this.finished.keys().next().value ?? '');
      const detail =
        c.stage === 'done'
          ? `completed with ${c.state.inputs.length} sites (${why})`
          : `abandoned: ${c.state.reason ?? ''} (${why}); nothing was revealed`;
      await this.transcript.append({ event: 'round', federation: fed, round: roundNo, detail });
      for (const p of live.plan.participants) {
        this.hub.push(p.siteName, {
          $case: 'roundFinished',
          value: {
            round: { federationId: fed, round: live.plan.round },
            outcome: c.stage === 'done' ? 1 : 2,
            detail,
          },
        });
      }
    } else {
      await this.transcript.append({
        event: 'round',
        federation: fed,
        round: roundNo,
        detail: `stage ${stage} closed (${why}); now ${c.stage}`,
      });
      const next = live.stage;
      if (next) {
        const value = {
          round: { federationId: fed, round: live.plan.round },
          stage: WIRE_STAGE[next],
          deadlineUnixMs: live.plan.deadlines[next],
        };
        for (const p of live.plan.participants) this.hub.push(p.siteName, { $case: 'stageOpened', value });
      }
    }
    await this.store.rounds.save(live.toRecord(this.now()));
    if (c.stage === 'done' && live.plan.kind !== 'evaluation')
      for (const listener of this.completionListeners) listener(fed, live.plan.round);
  }
}
