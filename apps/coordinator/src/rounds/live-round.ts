import {
  decodeState,
  encodeState,
  type KeyRoster,
  SecAggCoordinator,
  type ShareDelivery,
  type SurvivorSet,
  type UnmaskRequest,
} from '@fedistill/secagg';
import type { CoordinatorState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import type { RoundPlan, StageName } from '@fedistill/protocol';

export interface Decline {
  readonly site: string;
  readonly reason: string;
  readonly detail: string;
}

/**
 * Everything the engine keeps about one round; persisted whole after every transition. What the
 * closed stages published (roster, share deliveries, survivor sets, unmask requests) is not in
 * it: those follow from the coordinator's state (SecAggCoordinator.published) and are rebuilt
 * when a round is loaded. Stored, they made the record O(n^2) and every site's message as
 * costly to persist (issue 15, 200 sites over the wire); records written before carry them and
 * they are ignored.
 */
export interface RoundSnapshot {
  readonly plan: RoundPlan;
  readonly coordinator: CoordinatorState;
  readonly declines: readonly Decline[];
  /** SHA-256 (hex) of each accepted masked input, by site id: a retried submission is recognized. */
  readonly receipts: Readonly<Record<number, string>>;
  readonly status: RoundRecord['status'];
  readonly reason: string | null;
  readonly createdAt: number;
}

/** A round in memory: its coordinator state machine and the stage outputs sites fetch. */
export class LiveRound {
  roster: KeyRoster | null;
  deliveries: readonly ShareDelivery[] | null;
  survivorSets: readonly SurvivorSet[] | null;
  unmaskRequests: readonly UnmaskRequest[] | null;
  declines: Decline[];
  receipts: Record<number, string>;
  status: RoundRecord['status'];
  reason: string | null;
  /**
   * The round as last written to the store (`stored`), which the round in memory equals at the
   * start of every transition: what a failed transition is put back to, without encoding the
   * round once more before each message.
   */
  private lastStored: RoundRecord | null = null;
  /**
   * Whether a transition of this round failed because the coordinator's storage did (set by
   * close-stage.ts `transition`): the open stage then gets its length again before it is closed
   * by a deadline (closeExpiredStages). In memory only: a restart restarts the stage anyway.
   */
  storageOutage = false;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    public plan: RoundPlan,
    // Replaced only by `restore` (a transition that could not be persisted is undone).
    public coordinator: SecAggCoordinator,
    snapshot: Partial<RoundSnapshot>,
    readonly createdAt: number,
  ) {
    const published = coordinator.published();
    this.roster = published.roster;
    this.deliveries = published.deliveries;
    this.survivorSets = published.survivorSets;
    this.unmaskRequests = published.unmaskRequests;
    this.declines = [...(snapshot.declines ?? [])];
    this.receipts = { ...(snapshot.receipts ?? {}) };
    this.status = snapshot.status ?? 'open';
    this.reason = snapshot.reason ?? null;
  }

  static fromRecord(record: RoundRecord, identityKeys: ReadonlyMap<number, Uint8Array>): LiveRound {
    const s = decodeState<RoundSnapshot>(record.engine);
    const live = new LiveRound(
      s.plan,
      SecAggCoordinator.resume({ config: s.plan.config, identityKeys }, s.coordinator),
      s,
      s.createdAt,
    );
    live.lastStored = record;
    return live;
  }

  /** Says that `record` (this round's `toRecord`) was written to the store. */
  stored(record: RoundRecord): void {
    this.lastStored = record;
  }

  /** The round as last written to the store (or as it is now, before it was ever written). */
  lastRecord(now: number): RoundRecord {
    return this.lastStored ?? this.toRecord(now);
  }

  /**
   * Puts the round back to `record` (`lastRecord` before a transition): used when the
   * transition could not be persisted (the coordinator's disk full or read-only, its database
   * away), so that the round in memory never runs ahead of the round in the store.
   */
  restore(record: RoundRecord, identityKeys: ReadonlyMap<number, Uint8Array>): void {
    const s = decodeState<RoundSnapshot>(record.engine);
    this.plan = s.plan;
    this.coordinator = SecAggCoordinator.resume({ config: s.plan.config, identityKeys }, s.coordinator);
    const published = this.coordinator.published();
    this.roster = published.roster;
    this.deliveries = published.deliveries;
    this.survivorSets = published.survivorSets;
    this.unmaskRequests = published.unmaskRequests;
    this.declines = [...s.declines];
    this.receipts = { ...s.receipts };
    this.status = s.status;
    this.reason = s.reason;
    this.lastStored = record;
  }

  /** The stage sites are in now ('keys' .. 'consistency' .. 'unmask'), or null once the round ended. */
  get stage(): StageName | null {
    const st = this.coordinator.stage;
    return st === 'done' || st === 'abandoned' ? null : st;
  }

  /** Runs `fn` after every earlier mutation of this round finished (one writer at a time). */
  serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /**
   * After a coordinator restart: the open stage gets its whole length again, counted from
   * `now` (the moment the coordinator serves again), and every later stage moves by the same
   * amount. Sites that were cut off by the outage reconnect with backoff; a stage that had
   * nearly run out while the coordinator was down must not abandon the round before they are
   * back (issue 15, "resumption that cannot be starved"); `graceMs` (coordinator
   * sessions.resumeGrace) adds the time a node's reconnect backoff may take at its cap. Returns
   * how far the deadlines moved (ms, 0 when the open stage still had that much left).
   */
  restartOpenStage(now: number, graceMs = 0): number {
    const stage = this.stage;
    if (!stage) return 0;
    const order = (Object.entries(this.plan.deadlines) as [StageName, number][]).sort((a, b) => a[1] - b[1]);
    const index = order.findIndex(([name]) => name === stage);
    const previousEnd = index > 0 ? (order[index - 1] as [StageName, number])[1] : this.createdAt;
    const current = this.plan.deadlines[stage];
    const shift = Math.max(0, now + graceMs + (current - previousEnd) - current);
    if (shift === 0) return 0;
    const deadlines = Object.fromEntries(
      order.map(([name, at], i) => [name, i >= index ? at + shift : at]),
    ) as Record<StageName, number>;
    this.plan = { ...this.plan, deadlines };
    return shift;
  }

  /** Whether every site still expected at the open stage has answered it or declined the round. */
  everyoneAnswered(): boolean {
    return this.awaiting()?.length === 0;
  }

  /**
   * The sites (ids) the open stage still waits for: expected there, neither answered nor declined;
   * null without an open stage. A site that declined (at any stage) will not answer: waiting for
   * its deadline changes nothing but the time the others wait.
   */
  awaiting(): number[] | null {
    const s = this.coordinator.state;
    const declined = new Set(this.declines.map((d) => this.participant(d.site)));
    const waitingOf = (expected: readonly number[], answered: (id: number) => boolean): number[] =>
      expected.filter((id) => !declined.has(id) && !answered(id));
    switch (this.stage) {
      case 'keys':
        return waitingOf(
          this.plan.participants.map((p) => p.siteId),
          (id) => s.adverts.some((a) => a.siteId === id),
        );
      case 'shares':
        return waitingOf(
          (this.roster?.adverts ?? []).map((a) => a.siteId),
          (id) => s.sharers.includes(id),
        );
      case 'inputs':
        return waitingOf(s.sharers, (id) => s.inputs.includes(id));
      case 'consistency':
        return waitingOf(s.inputs, (id) => s.signatures.some((x) => x.siteId === id));
      case 'unmask':
        return waitingOf(
          s.signatures.map((x) => x.siteId),
          (id) => s.responses.some((r) => r.from === id),
        );
      default:
        return null;
    }
  }

  participant(site: string): number | undefined {
    return this.plan.participants.find((p) => p.siteName === site)?.siteId;
  }

  toRecord(now: number): RoundRecord {
    const snapshot: RoundSnapshot = {
      plan: this.plan,
      coordinator: this.coordinator.state,
      declines: this.declines,
      receipts: this.receipts,
      status: this.status,
      reason: this.reason,
      createdAt: this.createdAt,
    };
    return {
      federationId: this.plan.federationId,
      round: this.plan.round,
      status: this.status,
      stage: this.coordinator.stage,
      engine: encodeState(snapshot),
      createdAt: this.createdAt,
      updatedAt: now,
    };
  }
}
