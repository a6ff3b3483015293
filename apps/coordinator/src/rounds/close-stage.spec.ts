import {
  makeIdentities,
  type SecAggConfig,
  SecAggCoordinator,
  SecAggSite,
  seededRandom,
} from '@fedistill/secagg';
import type { RoundPlan } from '@fedistill/protocol';
import type { RoundRecord } from '@fedistill/store';
import { closeExpiredStages, mutate } from './close-stage';
import { EngineContext, type EngineDeps } from './engine-context';
import { LiveRound } from './live-round';

describe('close-stage transitions when the store cannot write', () => {
  const config: SecAggConfig = {
    roundId: 'fed#1',
    siteIds: [1, 2, 3],
    threshold: 2,
    neighbours: 'all',
    bits: 32,
    maxInput: 100,
    length: 2,
  };
  const identities = makeIdentities(config.siteIds, seededRandom(7));
  const identityKeys = new Map([...identities].map(([id, kp]) => [id, kp.publicKey]));
  const participants = config.siteIds.map((siteId) => ({ siteId, siteName: `site-${siteId}` }));
  const newSites = () =>
    config.siteIds.map((siteId) =>
      SecAggSite.create({
        config,
        siteId,
        identitySecretKey: identities.get(siteId)!.secretKey,
        identityKeys,
        random: seededRandom(siteId),
      }),
    );
  const diskFull = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

  /** An engine over a store whose writes fail while `full.now` is true; records what was stored. */
  function setUp() {
    const full = { now: false };
    const saved: RoundRecord[] = [];
    const transcript: string[] = [];
    const ctx = new EngineContext({
      now: () => 50_000,
      store: {
        rounds: {
          save: (r: RoundRecord) =>
            full.now ? Promise.reject(diskFull()) : Promise.resolve(void saved.push(r)),
        },
        sites: {
          get: (name: string) =>
            Promise.resolve({
              signingPublicKey: identityKeys.get(participants.find((p) => p.siteName === name)!.siteId),
            }),
        },
      },
      transcript: {
        append: (e: { detail: string }) =>
          full.now ? Promise.reject(diskFull()) : Promise.resolve(void transcript.push(e.detail)),
      },
    } as unknown as EngineDeps);
    const plan = {
      federationId: 'fed',
      round: 1,
      config,
      participants,
      deadlines: { keys: 10_000, shares: 20_000, inputs: 30_000, consistency: 40_000, unmask: 60_000 },
    } as unknown as RoundPlan;
    const live = new LiveRound(plan, SecAggCoordinator.create({ config, identityKeys }), {}, 0);
    ctx.live.set('fed#1', live);
    return { ctx, live, full, saved, transcript, sites: newSites() };
  }

  it('undoes a message the store could not record, so that the site can send it again', async () => {
    const { ctx, live, full, saved, sites } = setUp();
    full.now = true;
    const advert = sites[0]!.advertiseKeys();
    await expect(mutate(ctx, live, () => live.coordinator.receiveKeys(advert))).rejects.toThrow(
      'database or disk is full',
    );
    // Memory is what the store holds: no key from site 1.
    expect(live.coordinator.state.adverts).toEqual([]);
    expect(saved).toEqual([]);
    full.now = false;
    await mutate(ctx, live, () => live.coordinator.receiveKeys(advert));
    expect(live.coordinator.state.adverts.map((a) => a.siteId)).toEqual([1]);
    expect(saved).toHaveLength(1);
  });

  it('undoes a stage close it could not write, keeps the round open, and closes it at the next try', async () => {
    const { ctx, live, full, saved, transcript, sites } = setUp();
    for (const s of sites) await mutate(ctx, live, () => live.coordinator.receiveKeys(s.advertiseKeys()));
    // Everyone answered: the key stage closed as the last key arrived.
    expect(live.stage).toBe('shares');
    const shares = sites.map((s) => s.shareKeys({ roundId: config.roundId, adverts: live.roster!.adverts }));
    await mutate(ctx, live, () => live.coordinator.receiveShares(1, shares[0]!));
    const before = { saved: saved.length, transcript: transcript.length };
    // The share deadline (20 s) passed at 50 s; the disk is full: the close is undone.
    full.now = true;
    await expect(closeExpiredStages(ctx)).rejects.toThrow('database or disk is full');
    expect(live.stage).toBe('shares');
    expect(live.deliveries).toBeNull();
    expect(live.coordinator.state.sharers).toEqual([1]);
    expect(ctx.live.get('fed#1')).toBe(live);
    expect({ saved: saved.length, transcript: transcript.length }).toEqual(before);
    // Freed: the next tick closes it, from the same state (one sharer: below the threshold of 2).
    full.now = false;
    await closeExpiredStages(ctx);
    expect(live.status).toBe('abandoned');
    expect(ctx.live.has('fed#1')).toBe(false);
    expect(saved.at(-1)!.status).toBe('abandoned');
    expect(transcript.at(-1)).toMatch(/^abandoned: .*\(deadline passed\); nothing was revealed$/);
  });
});
