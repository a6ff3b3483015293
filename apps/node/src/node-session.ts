import { status, type ServiceError } from '@grpc/grpc-js';
import { NodeSessionService, type NodeEvent } from '@fedistill/wire';
import type { NodeEgress } from './egress';

export interface SessionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SessionOptions {
  readonly heartbeatIntervalMs: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly nodeVersion: string;
  /** How often to exchange signed log heads (anchors) with the coordinator, and how. */
  readonly anchorIntervalMs: number;
  readonly anchor: () => Promise<unknown>;
  /** Called for every server-pushed event. */
  readonly onEvent?: (event: NodeEvent) => void;
  /** Called when the coordinator says the site is revoked: the session stops for good. */
  readonly onRevoked?: (reason: string) => void;
  /** Called when the event stream is welcomed (true) and when it breaks or the session stops (false). */
  readonly onConnection?: (open: boolean) => void;
}

/** Errors after which retrying cannot help: the site must be fixed by a person. */
const FATAL = new Set<number>([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);

/**
 * A node's session with the coordinator: signed heartbeats on a timer and the server-pushed
 * event stream, both reconnecting with exponential backoff and jitter after failures.
 */
export class NodeSession {
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stream: Awaited<ReturnType<NodeEgress['serverStream']>> | undefined;
  private anchorTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private streamFailures = 0;
  private generation = 0;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  private done: (() => void) | undefined;
  private readonly finished: Promise<void>;

  constructor(
    private readonly egress: NodeEgress,
    private readonly options: SessionOptions,
    private readonly log: SessionLogger,
  ) {
    this.finished = new Promise<void>((resolve) => (this.done = resolve));
  }

  /** Starts heartbeats and the event stream; resolves when the session stops. */
  run(): Promise<void> {
    this.beat();
    this.subscribe();
    this.scheduleAnchor();
    return this.finished;
  }

  private scheduleAnchor(): void {
    if (this.stopped) return;
    this.anchorTimer = setTimeout(() => {
      this.options.anchor().then(
        () => this.scheduleAnchor(),
        (err: Error) => {
          this.log.warn({ reason: err.message }, 'log anchor exchange failed; will retry');
          this.scheduleAnchor();
        },
      );
    }, this.options.anchorIntervalMs);
  }

  private backoff(): number {
    const base = Math.min(
      this.options.maxDelayMs,
      this.options.initialDelayMs * 2 ** Math.min(this.failures, 16),
    );
    return base / 2 + (Math.random() * base) / 2; // jitter, not security-relevant
  }

  private beat(): void {
    if (this.stopped) return;
    this.egress
      .unary(
        NodeSessionService.heartbeat,
        { nodeVersion: this.options.nodeVersion, activeRounds: [] },
        { deadlineMs: this.options.heartbeatIntervalMs * 2 },
      )
      .then(
        () => {
          if (this.failures > 0)
            this.log.info({ afterFailures: this.failures }, 'coordinator reachable again');
          this.failures = 0;
          this.schedule(this.options.heartbeatIntervalMs);
        },
        (err: ServiceError) => this.onFailure('heartbeat', err),
      );
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => this.beat(), delayMs);
  }

  private onFailure(what: string, err: ServiceError): void {
    if (this.stopped) return;
    if (FATAL.has(err.code)) {
      this.log.error({ code: err.code, reason: err.details }, `${what} refused by the coordinator; stopping`);
      this.stop();
      return;
    }
    this.failures += 1;
    const delay = this.backoff();
    this.log.warn(
      { code: err.code, reason: err.details, retryInMs: Math.round(delay) },
      `${what} failed; retrying`,
    );
    this.schedule(delay);
  }

  /**
   * Opens the event stream, replacing any earlier one. Each stream gets a generation number;
   * a stream's end can schedule at most one reconnect, and only while it is still the current
   * stream. grpc-js emits both 'error' and 'end' for one failed stream, so without this rule
   * every failure doubled the reconnect loops: after a coordinator restart a node held dozens of
   * streams and the coordinator answered each with a welcome (issue 15's reconnect storm).
   */
  private subscribe(): void {
    if (this.stopped) return;
    clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = undefined;
    const generation = ++this.generation;
    this.stream?.cancel();
    this.stream = undefined;
    this.egress.serverStream(NodeSessionService.subscribe, { afterEventId: 0 }).then(
      (stream) => this.watch(stream, generation),
      (err: Error) => {
        this.log.error({ err: err.message }, 'cannot open the event stream; stopping');
        this.stop();
      },
    );
  }

  private watch(stream: Awaited<ReturnType<NodeEgress['serverStream']>>, generation: number): void {
    if (this.stopped || generation !== this.generation) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    let ended = false;
    const reconnect = (err?: ServiceError) => {
      if (ended) return;
      ended = true;
      if (this.stopped || generation !== this.generation) return;
      this.options.onConnection?.(false);
      if (err && FATAL.has(err.code)) return this.onFailure('event stream', err);
      this.streamFailures += 1;
      const delay = this.streamBackoff();
      if (err)
        this.log.warn(
          { code: err.code, reason: err.details, retryInMs: Math.round(delay) },
          'event stream failed; reconnecting',
        );
      this.resubscribeTimer = setTimeout(() => this.subscribe(), delay);
    };
    stream.on('data', (event: NodeEvent) => {
      // Data proves the stream works: the next break starts the backoff from the beginning.
      this.streamFailures = 0;
      if (event.event?.$case === 'siteRevoked') {
        this.log.error({ reason: event.event.value.reason }, 'this site was revoked by the coordinator');
        this.options.onRevoked?.(event.event.value.reason);
        this.stop();
        return;
      }
      if (event.event?.$case === 'welcome') {
        this.log.info({ as: event.event.value.siteName }, 'session open');
        this.options.onConnection?.(true);
      }
      this.options.onEvent?.(event);
    });
    stream.on('error', (err: ServiceError) => {
      // CANCELLED is our own cancel (stop, or a newer stream replacing this one).
      if (err.code === status.CANCELLED) {
        ended = true;
        return;
      }
      reconnect(err);
    });
    stream.on('end', () => reconnect());
  }

  /**
   * Backoff for the event stream, apart from the heartbeat's: exponential from initialDelayMs,
   * capped at maxDelayMs, with full jitter over [base/2, base] so that nodes cut off by one
   * coordinator restart do not all come back in the same instant (the thundering herd).
   */
  private streamBackoff(): number {
    const base = Math.min(
      this.options.maxDelayMs,
      this.options.initialDelayMs * 2 ** Math.min(this.streamFailures - 1, 16),
    );
    return base / 2 + (Math.random() * base) / 2; // jitter, not security-relevant
  }

  /**
   * Stops timers and the stream; idempotent. Cancelling the event stream is the node's goodbye:
   * the coordinator lists the site offline as soon as its stream closes (NodeEventHub.hasLeft),
   * so a round opened after a SIGTERM does not count on this site.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.anchorTimer);
    clearTimeout(this.resubscribeTimer);
    this.stream?.cancel();
    this.options.onConnection?.(false);
    this.done?.();
  }
}
