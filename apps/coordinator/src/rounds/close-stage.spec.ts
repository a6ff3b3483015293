import {
  decodeSigned,
  decodeState,
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
import { advertiseKeys } from './keys-stage';
import { LiveRound, type RoundSnapshot } from './live-round';
import { sendShares } from './shares-stage';
import { submitSurvivorSignature } from './consistency-stage';
import { submitUnmask } from './unmask-stage';

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

  /**
   * An engine over a store whose writes fail while `full.now` is true, and take `slow.ms` to
   * complete; records what was stored.
   */
  function setUp() {
    const full = { now: false };
    const slow = { ms: 0 };
    const saved: RoundRecord[] = [];
    const transcript: string[] = [];
    const clock = { t: 50_000 };
    const ctx = new EngineContext({
      now: () => clock.t,
      store: {
        rounds: {
          save: async (r: RoundRecord) => {
            if (slow.ms > 0) await new Promise((resolve) => setTimeout(resolve, slow.ms));
            if (full.now) throw diskFull();
            saved.push(r);
          },
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
    return { ctx, live, full, slow, clock, saved, transcript, sites: newSites() };
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

  it('undoes a stage close it could not write, keeps the round open, and gives the stage its length again once the store is back', async () => {
    const { ctx, live, full, clock, saved, transcript, sites } = setUp();
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
    // Site 2's shares are refused too while the disk is full.
    await expect(mutate(ctx, live, () => live.coordinator.receiveShares(2, shares[1]!))).rejects.toThrow(
      'database or disk is full',
    );
    // Freed (at 55 s): the sites were refused meanwhile, so the stage is not closed by the
    // deadline that passed; it gets its 10 s again from now, and later stages move as much.
    clock.t = 55_000;
    full.now = false;
    await closeExpiredStages(ctx);
    expect(live.stage).toBe('shares');
    expect(live.plan.deadlines).toMatchObject({ shares: 65_000, inputs: 75_000, unmask: 105_000 });
    expect(transcript.at(-1)).toMatch(
      /^stage shares: deadline restarted from now \(\+45 s\) after the coordinator's storage failed/,
    );
    expect(JSON.parse(saved.at(-1)!.engine)).toMatchObject({ plan: { deadlines: { shares: 65_000 } } });
    // Site 2 gets in now; at the new deadline the stage closes as usual, once.
    await mutate(ctx, live, () => live.coordinator.receiveShares(2, shares[1]!));
    clock.t = 65_001;
    await closeExpiredStages(ctx);
    expect(live.stage).toBe('inputs');
    expect(live.coordinator.state.sharers).toEqual([1, 2]);
    expect(live.plan.deadlines.inputs).toBe(75_000);
    // With no outage since, a passed deadline closes the stage: no input arrived, below the threshold.
    clock.t = 75_001;
    await closeExpiredStages(ctx);
    expect(live.status).toBe('abandoned');
    expect(ctx.live.has('fed#1')).toBe(false);
    expect(saved.at(-1)!.status).toBe('abandoned');
    expect(transcript.at(-1)).toMatch(/^abandoned: .*\(deadline passed\); nothing was revealed$/);
  });

  it('answers a message sent again while the first copy still waits its turn as the first, and applies it once', async () => {
    // A site whose call ran past its deadline sends it again (the node retries DEADLINE_EXCEEDED):
    // both copies may be queued behind other sites' messages at once.
    const { ctx, live, slow, saved, sites } = setUp();
    slow.ms = 20;
    const adverts = sites.map((s) => s.advertiseKeys());
    const send = (i: number) => advertiseKeys(ctx, `site-${i + 1}`, 'fed', 1, adverts[i]!);
    await Promise.all([send(0), send(1), send(0), send(1), send(2), send(2)]);
    expect(live.coordinator.state.adverts.map((a) => a.siteId).sort()).toEqual([1, 2, 3]);
    expect(live.stage).toBe('shares');
    // Three messages applied, three records written (the last closed the stage).
    expect(saved).toHaveLength(3);
    const shares = sites.map((s) => s.shareKeys({ roundId: config.roundId, adverts: live.roster!.adverts }));
    const share = (i: number) => sendShares(ctx, `site-${i + 1}`, 'fed', 1, shares[i]!);
    await Promise.all([share(0), share(0), share(1), share(1)]);
    expect(live.coordinator.state.sharers).toEqual([1, 2]);
    expect(saved).toHaveLength(5);
  });

  it('stores no stage output: a round loaded from any of its records publishes what the live round did', async () => {
    const { ctx, live, saved, sites } = setUp();
    const loaded = () => LiveRound.fromRecord(saved.at(-1)!, identityKeys);
    const outputs = (r: LiveRound) => ({
      roster: r.roster,
      deliveries: r.deliveries,
      survivorSets: r.survivorSets,
      unmaskRequests: r.unmaskRequests,
    });
    const stored = () => {
      const record = saved.at(-1)!;
      // The record holds the state machine's state, not what follows from it.
      expect(Object.keys(JSON.parse(record.engine) as object).sort()).toEqual(
        ['coordinator', 'createdAt', 'declines', 'plan', 'reason', 'receipts', 'status'].sort(),
      );
      expect(outputs(loaded())).toEqual(outputs(live));
    };
    for (const [i, s] of sites.entries())
      await advertiseKeys(ctx, `site-${i + 1}`, 'fed', 1, s.advertiseKeys());
    expect(live.roster).not.toBeNull();
    stored();
    for (const [i, s] of sites.entries())
      await sendShares(
        ctx,
        `site-${i + 1}`,
        'fed',
        1,
        s.shareKeys({ roundId: 'fed#1', adverts: live.roster!.adverts }),
      );
    expect(live.deliveries).toHaveLength(3);
    stored();
    for (const [i, s] of sites.entries()) {
      const delivery = live.deliveries!.find((d) => d.to === i + 1)!;
      await mutate(ctx, live, () =>
        live.coordinator.receiveMaskedInput(s.maskInput(delivery, Uint32Array.of(i, 1))),
      );
    }
    expect(live.survivorSets).toHaveLength(3);
    stored();
    for (const [i, s] of sites.entries()) {
      const set = live.survivorSets!.find((x) => x.to === i + 1)!;
      await submitSurvivorSignature(ctx, `site-${i + 1}`, 'fed', 1, s.signSurvivors(set).signature);
    }
    expect(live.unmaskRequests).toHaveLength(3);
    stored();
    // Two of three answer (threshold 2): the round is still open, and a loaded copy can finish it.
    for (const i of [0, 1]) {
      const request = live.unmaskRequests!.find((r) => r.to === i + 1)!;
      await submitUnmask(ctx, `site-${i + 1}`, 'fed', 1, sites[i]!.unmask(request));
    }
    stored();
    const copy = loaded();
    copy.coordinator.receiveUnmask(sites[2]!.unmask(copy.unmaskRequests!.find((r) => r.to === 3)!));
    expect(copy.coordinator.finish()).toMatchObject({ status: 'done', sum: Uint32Array.of(3, 3) });
    // The live round ends the same way; its last record keeps no share of anyone's secrets.
    const last = live.unmaskRequests!.find((r) => r.to === 3)!;
    const sharesHeld = live.coordinator.state.shares.length;
    expect(sharesHeld).toBe(6);
    await submitUnmask(ctx, 'site-3', 'fed', 1, sites[2]!.unmask(last));
    expect(live.status).toBe('completed');
    const ended = decodeState<RoundSnapshot>(saved.at(-1)!.engine).coordinator;
    expect(ended).toMatchObject({ stage: 'done', shares: [], responses: [], maskedSum: null });
    expect(decodeSigned(ended.result!, 32)).toEqual(Int32Array.of(3, 3));
    expect(ended.adverts).toHaveLength(3);
  });
});
