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

  private subscribe(): void {
    if (this.stopped) return;
    this.egress.serverStream(NodeSessionService.subscribe, { afterEventId: 0 }).then(
      (stream) => this.watch(stream),
      (err: Error) => {
        this.log.error({ err: err.message }, 'cannot open the event stream; stopping');
        this.stop();
      },
    );
  }

  private watch(stream: Awaited<ReturnType<NodeEgress['serverStream']>>): void {
    if (this.stopped) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (event: NodeEvent) => {
      if (event.event?.$case === 'siteRevoked') {
        this.log.error({ reason: event.event.value.reason }, 'this site was revoked by the coordinator');
        this.options.onRevoked?.(event.event.value.reason);
        this.stop();
        return;
      }
      if (event.event?.$case === 'welcome') this.log.info({ as: event.event.value.siteName }, 'session open');
      this.options.onEvent?.(event);
    });
    stream.on('error', (err: ServiceError) => {
      if (this.stopped || err.code === status.CANCELLED) return;
      if (FATAL.has(err.code)) return this.onFailure('event stream', err);
      setTimeout(() => this.subscribe(), this.backoff());
    });
    stream.on('end', () => {
      if (!this.stopped) setTimeout(() => this.subscribe(), this.backoff());
    });
  }

  /** Stops timers and the stream; idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.anchorTimer);
    this.stream?.cancel();
    this.done?.();
  }
}
