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
    const unsubscribe = sut.subscribe('a', subscriber().sub);
    unsubscribe();
    expect(sut.connectedSites()).toEqual([]);
  });
});
