import type { NodeEvent } from '@fedistill/wire';
import { RateLimitedError } from './errors';

type EventBody = NodeEvent['event'];

/** One open Subscribe stream of a site. */
export interface EventSubscriber {
  send(event: NodeEvent): void;
  end(): void;
}

/** A registered stream: events for it alone (the welcome) and its removal. */
export interface Subscription {
  /** Sends one event to this stream only, while it is the site's current stream. */
  send(event: EventBody): void;
  /**
   * Unregisters this stream (idempotent; never touches a newer stream of the same site). The
   * site's current stream closing means the site left: see {@link NodeEventHub.hasLeft}.
   */
  close(): void;
}

export interface EventHubOptions {
  /**
   * How many times one site may open its event stream within `subscribeWindowMs` before further
   * attempts are refused (RESOURCE_EXHAUSTED) until the window moves on. A healthy node opens one
   * stream per coordinator restart or network break; a node in a reconnect loop must not be able
   * to make the coordinator resend welcomes and announcements in a tight loop.
   */
  readonly maxSubscribesPerWindow: number;
  readonly subscribeWindowMs: number;
}

const DEFAULTS: EventHubOptions = { maxSubscribesPerWindow: 10, subscribeWindowMs: 10_000 };

/**
 * Server-pushed events to connected nodes. Holds at most one open Subscribe stream per site:
 * a site that subscribes again (after a network break the old stream may still look open
 * here) replaces its older stream, which is ended. So a site never receives an event twice,
 * and the number of streams the coordinator holds is bounded by the number of sites, even
 * when nodes reconnect all at once after a coordinator restart. Pushing to a site with no
 * open stream is a no-op: round state is persisted and re-announced when the site subscribes.
 */
export class NodeEventHub {
  private readonly subscribers = new Map<string, EventSubscriber>();
  private readonly attempts = new Map<string, number[]>();
  /** Sites whose current stream closed (a node stopping, or its connection gone) and that have not subscribed since. */
  private readonly left = new Set<string>();
  private readonly options: EventHubOptions;
  /** The node software version each site last reported in a heartbeat (memory only: resent every beat). */
  private readonly versions = new Map<string, string>();
  private nextId = 1;

  constructor(
    private readonly now: () => number = Date.now,
    options: Partial<EventHubOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    if (!(this.options.maxSubscribesPerWindow >= 1))
      throw new RangeError("'maxSubscribesPerWindow' must be >= 1");
    if (!(this.options.subscribeWindowMs > 0)) throw new RangeError("'subscribeWindowMs' must be > 0");
  }

  /**
   * Registers `subscriber` as the site's one stream, ending the one it replaces. Throws
   * RateLimitedError (and changes nothing) when the site subscribed too often recently.
   */
  subscribe(site: string, subscriber: EventSubscriber): Subscription {
    this.admit(site);
    const older = this.subscribers.get(site);
    this.subscribers.set(site, subscriber);
    this.left.delete(site);
    if (older) older.end();
    return {
      // A stream already replaced by a newer one of the site gets nothing more.
      send: (event) => {
        if (this.subscribers.get(site) === subscriber) subscriber.send(this.message(event));
      },
      close: () => {
        if (this.subscribers.get(site) !== subscriber) return;
        this.subscribers.delete(site);
        this.left.add(site);
      },
    };
  }

  private admit(site: string): void {
    const now = this.now();
    const since = now - this.options.subscribeWindowMs;
    const recent = (this.attempts.get(site) ?? []).filter((t) => t > since);
    if (recent.length >= this.options.maxSubscribesPerWindow) {
      const retryInMs = (recent[0] as number) + this.options.subscribeWindowMs - now;
      this.attempts.set(site, recent);
      throw new RateLimitedError(
        `site '${site}' opened its event stream ${recent.length} times in ${this.options.subscribeWindowMs} ms; retry in ${retryInMs} ms`,
      );
    }
    recent.push(now);
    this.attempts.set(site, recent);
  }

  private message(event: EventBody): NodeEvent {
    return { eventId: this.nextId++, emittedAtUnixMs: this.now(), event };
  }

  /** Sends one event to the site's open stream; returns how many streams got it (0 or 1). */
  push(site: string, event: EventBody): number {
    const subscriber = this.subscribers.get(site);
    if (!subscriber) return 0;
    subscriber.send(this.message(event));
    return 1;
  }

  /** Tells the site it was revoked and closes its stream. */
  disconnect(site: string, reason: string): void {
    this.push(site, { $case: 'siteRevoked', value: { reason } });
    this.subscribers.get(site)?.end();
    this.subscribers.delete(site);
  }

  /** Ends every stream (coordinator shutdown). */
  closeAll(): void {
    for (const s of this.subscribers.values()) s.end();
    this.subscribers.clear();
  }

  /** Records the version a site's node reported (HeartbeatRequest.node_version); empty is ignored. */
  noteVersion(site: string, version: string): void {
    if (version !== '') this.versions.set(site, version);
  }

  /** The version the site's node last reported, or null if it has not since this process started. */
  versionOf(site: string): string | null {
    return this.versions.get(site) ?? null;
  }

  /**
   * Whether the site's event stream closed and the site has not subscribed again. A node that
   * stops (SIGTERM, SIGINT) cancels its stream, and a process that dies takes its connection
   * with it: either way the site is gone now, not when its heartbeats time out (sessions.
   * offlineAfter), so a round opened meanwhile does not count on it. gRPC does not tell a
   * node's own cancel from a lost connection; a site cut off by the network is offline too
   * until it subscribes again, which its node does at once when the network is back.
   */
  hasLeft(site: string): boolean {
    return this.left.has(site);
  }

  connectedSites(): string[] {
    return [...this.subscribers.keys()].sort();
  }
}
