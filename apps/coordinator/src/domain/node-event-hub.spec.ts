import type { NodeEvent } from '@fedistill/wire';
import { NodeEventHub } from './node-event-hub';

describe(NodeEventHub.name, () => {
  const subscriber = () => {
    const events: NodeEvent[] = [];
    let ended = false;
    return {
      events,
      ended: () => ended,
      sub: { send: (e: NodeEvent) => events.push(e), end: () => (ended = true) },
    };
  };

  it('delivers events only to the named site, with increasing ids', () => {
    const sut = new NodeEventHub(() => 42);
    const a = subscriber();
    const b = subscriber();
    sut.subscribe('a', a.sub);
    sut.subscribe('b', b.sub);
    expect(sut.push('a', { $case: 'welcome', value: { siteName: 'a', federationIds: [] } })).toBe(1);
    sut.push('a', { $case: 'welcome', value: { siteName: 'a', federationIds: [] } });
    expect(a.events.map((e) => e.eventId)).toEqual([1, 2]);
    expect(a.events[0]?.emittedAtUnixMs).toBe(42);
    expect(b.events).toEqual([]);
    expect(sut.push('nobody', { $case: 'welcome', value: { siteName: 'x', federationIds: [] } })).toBe(0);
  });

  it('tells a revoked site and closes its streams', () => {
    const sut = new NodeEventHub();
    const a = subscriber();
    sut.subscribe('a', a.sub);
    sut.disconnect('a', 'stolen key');
    expect(a.events[0]?.event).toEqual({ $case: 'siteRevoked', value: { reason: 'stolen key' } });
    expect(a.ended()).toBe(true);
    expect(sut.connectedSites()).toEqual([]);
  });

  it('forgets a stream when it unsubscribes', () => {
    const sut = new NodeEventHub();
    const subscription = sut.subscribe('a', subscriber().sub);
    subscription.close();
    expect(sut.connectedSites()).toEqual([]);
  });

  it("marks a site as left when its current stream closes, until it subscribes again; a replaced stream's close does not", () => {
    const sut = new NodeEventHub();
    const first = sut.subscribe('a', subscriber().sub);
    expect(sut.hasLeft('a')).toBe(false);
    const second = sut.subscribe('a', subscriber().sub);
    first.close();
    expect(sut.hasLeft('a')).toBe(false);
    second.close();
    expect(sut.hasLeft('a')).toBe(true);
    expect(sut.hasLeft('b')).toBe(false);
    sut.subscribe('a', subscriber().sub);
    expect(sut.hasLeft('a')).toBe(false);
  });

  it('holds one stream per site: a new subscription ends the older stream and gets the events', () => {
    const sut = new NodeEventHub();
    const older = subscriber();
    const newer = subscriber();
    const first = sut.subscribe('a', older.sub);
    const second = sut.subscribe('a', newer.sub);
    expect(older.ended()).toBe(true);
    expect(sut.push('a', { $case: 'welcome', value: { siteName: 'a', federationIds: [] } })).toBe(1);
    expect(older.events).toEqual([]);
    expect(newer.events).toHaveLength(1);
    // The replaced stream's late close must not unregister the newer stream...
    first.close();
    expect(sut.connectedSites()).toEqual(['a']);
    // ...and what is sent on it goes nowhere.
    first.send({ $case: 'welcome', value: { siteName: 'a', federationIds: [] } });
    expect(older.events).toEqual([]);
    second.send({ $case: 'welcome', value: { siteName: 'a', federationIds: [] } });
    expect(newer.events).toHaveLength(2);
  });

  it('sends a subscription event to that stream only', () => {
    const sut = new NodeEventHub();
    const a = subscriber();
    const b = subscriber();
    sut.subscribe('b', b.sub);
    sut.subscribe('a', a.sub).send({ $case: 'welcome', value: { siteName: 'a', federationIds: [] } });
    expect(a.events).toHaveLength(1);
    expect(b.events).toEqual([]);
  });

  it('refuses a site that subscribes too often, without touching its open stream', () => {
    let now = 1_000;
    const sut = new NodeEventHub(() => now, { maxSubscribesPerWindow: 3, subscribeWindowMs: 10_000 });
    const streams = [subscriber(), subscriber(), subscriber(), subscriber()];
    for (const s of streams.slice(0, 3)) sut.subscribe('a', s.sub);
    expect(() => sut.subscribe('a', (streams[3] as ReturnType<typeof subscriber>).sub)).toThrow(
      /opened its event stream 3 times in 10000 ms; retry in 10000 ms/,
    );
    expect(streams[2]?.ended()).toBe(false);
    expect(sut.push('a', { $case: 'welcome', value: { siteName: 'a', federationIds: [] } })).toBe(1);
    expect(streams[2]?.events).toHaveLength(1);
    // Other sites are not affected, and the window moves on.
    expect(() => sut.subscribe('b', subscriber().sub)).not.toThrow();
    now += 10_001;
    expect(() => sut.subscribe('a', (streams[3] as ReturnType<typeof subscriber>).sub)).not.toThrow();
  });

  it('keeps the node version each site last reported, ignoring an empty one', () => {
    const sut = new NodeEventHub();
    expect(sut.versionOf('a')).toBeNull();
    sut.noteVersion('a', '0.1.0');
    sut.noteVersion('a', '');
    sut.noteVersion('b', '0.2.0');
    expect([sut.versionOf('a'), sut.versionOf('b')]).toEqual(['0.1.0', '0.2.0']);
  });

  it('rejects nonsensical limits', () => {
    expect(() => new NodeEventHub(Date.now, { maxSubscribesPerWindow: 0 })).toThrow(/maxSubscribesPerWindow/);
    expect(() => new NodeEventHub(Date.now, { subscribeWindowMs: -1 })).toThrow(/subscribeWindowMs/);
  });
});
