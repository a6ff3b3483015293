import type { SecAggCoordinator } from '@fedistill/secagg';
import { LiveRound } from './live-round';
import type { RoundPlan } from '@fedistill/protocol';

describe(LiveRound.name, () => {
  // Round created at t = 1000 with stages of 10, 6, 10 and 6 s (cumulative deadlines).
  const deadlines = { keys: 11_000, shares: 17_000, inputs: 27_000, unmask: 33_000 };
  // What no stage closed yet published (the state machine's `published`).
  const published = () => ({ roster: null, deliveries: null, survivorSets: null, unmaskRequests: null });
  const at = (stage: string) =>
    new LiveRound(
      { deadlines } as unknown as RoundPlan,
      { stage, published } as unknown as SecAggCoordinator,
      {},
      1_000,
    );

  describe('restartOpenStage', () => {
    it('gives the open stage its whole length again from the restart, and moves later stages', () => {
      const sut = at('shares');
      // Restarted 1 s before the share stage would have closed: it gets 6 s from now.
      expect(sut.restartOpenStage(16_000)).toBe(5_000);
      expect(sut.plan.deadlines).toEqual({ keys: 11_000, shares: 22_000, inputs: 32_000, unmask: 38_000 });
    });

    it('restarts a stage whose deadline passed while the coordinator was down', () => {
      const sut = at('inputs');
      expect(sut.restartOpenStage(60_000)).toBe(43_000);
      expect(sut.plan.deadlines.inputs).toBe(70_000);
      expect(sut.plan.deadlines.unmask).toBe(76_000);
    });

    it('counts the first stage from the round creation', () => {
      const sut = at('keys');
      expect(sut.restartOpenStage(5_000)).toBe(4_000);
      expect(sut.plan.deadlines.keys).toBe(15_000);
    });

    it('adds the reconnect grace to the restarted stage, so a node at its backoff cap still answers', () => {
      const sut = at('shares');
      // 6 s of stage plus 30 s of grace from the restart at 16 s: the share stage ends at 52 s.
      expect(sut.restartOpenStage(16_000, 30_000)).toBe(35_000);
      expect(sut.plan.deadlines).toEqual({ keys: 11_000, shares: 52_000, inputs: 62_000, unmask: 68_000 });
    });

    it('leaves a stage that still has its whole length alone, and an ended round', () => {
      const open = at('unmask');
      expect(open.restartOpenStage(27_000)).toBe(0);
      expect(open.plan.deadlines).toEqual(deadlines);
      const ended = at('done');
      expect(ended.restartOpenStage(99_000)).toBe(0);
      expect(ended.plan.deadlines).toEqual(deadlines);
    });
  });

  describe('awaiting', () => {
    // Sites 1..4 invited; what the coordinator state machine recorded so far, stage by stage.
    const participants = [1, 2, 3, 4].map((siteId) => ({ siteId, siteName: `site-${siteId}` }));
    const round = (stage: string, state: object, declines: string[] = []) =>
      new LiveRound(
        { deadlines, participants } as unknown as RoundPlan,
        {
          stage,
          published,
          state: { adverts: [], sharers: [], inputs: [], signatures: [], responses: [], ...state },
        } as unknown as SecAggCoordinator,
        { declines: declines.map((site) => ({ site, reason: 'x', detail: '' })) },
        1_000,
      );

    it('lists the sites the open stage still waits for, leaving out those that declined', () => {
      const keys = round('keys', { adverts: [{ siteId: 2 }] }, ['site-4']);
      expect(keys.awaiting()).toEqual([1, 3]);
      expect(keys.everyoneAnswered()).toBe(false);
      const inputs = round('inputs', { sharers: [1, 2, 3], inputs: [3] });
      expect(inputs.awaiting()).toEqual([1, 2]);
      const unmask = round('unmask', {
        signatures: [{ siteId: 1 }, { siteId: 3 }],
        responses: [{ from: 3 }],
      });
      expect(unmask.awaiting()).toEqual([1]);
    });

    it('is empty once everyone expected answered, and null without an open stage', () => {
      const inputs = round('inputs', { sharers: [1, 2], inputs: [2, 1] });
      expect(inputs.awaiting()).toEqual([]);
      expect(inputs.everyoneAnswered()).toBe(true);
      expect(round('done', {}).awaiting()).toBeNull();
      expect(round('done', {}).everyoneAnswered()).toBe(false);
    });
  });
});
