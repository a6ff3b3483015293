import type { NodeEvent } from '@fedistill/wire';

type EventBody = NodeEvent['event'];

/** One open Subscribe stream of a site. */
export interface EventSubscriber {
  send(event: NodeEvent): void;
  end(): void;
}

/**
 * Server-pushed events to connected nodes. Holds the open streams per site; pushing to a site
 * with no open stream is a no-op (round state, later, is persisted and re-announced on connect).
 */
export class NodeEventHub {
  private readonly subscribers = new Map<string, Set<EventSubscriber>>();
  private nextId = 1;

  constructor(private readonly now: () => number = Date.now) {}

  /** Registers a stream; returns a function that unregisters it. */
  subscribe(site: string, subscriber: EventSubscriber): () => void {
    const set = this.subscribers.get(site) ?? new Set<EventSubscriber>();
    set.add(subscriber);
    this.subscribers.set(site, set);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.subscribers.delete(site);
    };
  }

  /** Sends one event to every open stream of `site`; returns how many streams got it. */
  push(site: string, event: EventBody): number {
    const set = this.subscribers.get(site);
    if (!set) return 0;
    const message: NodeEvent = { eventId: this.nextId++, emittedAtUnixMs: this.now(), event };
    for (const s of set) s.send(message);
    return set.size;
  }

  /** Tells the site it was revoked and closes its streams. */
  disconnect(site: string, reason: string): void {
    this.push(site, { $case: 'siteRevoked', value: { reason } });
    for (const s of [...(this.subscribers.get(site) ?? [])]) s.end();
    this.subscribers.delete(site);
  }

  /** Ends every stream (coordinator shutdown). */
  closeAll(): void {
    for (const set of this.subscribers.values()) for (const s of set) s.end();
    this.subscribers.clear();
  }

  connectedSites(): string[] {
    return [...this.subscribers.keys()].sort();
  }
}
