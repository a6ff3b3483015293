import type { DistillRoundPlan } from '@fedistill/protocol';
import type { CompletedRound } from './completed-rounds';
import { accumulateTargets, targetRuleOf } from './distillation-targets';

/** A completed round over `queries` whose sum puts `mass` units (granularity 0.01) per class. */
function round(n: number, queries: number[], mass: number[][]): CompletedRound {
  const plan = {
    round: n,
    queries,
    release: {
      summary: 'soft-labels',
      queries: queries.length,
      classes: 2,
      clipNorm: 1,
      granularity: 0.01,
      maxTeachers: 4,
      noise: null,
    },
  } as unknown as DistillRoundPlan;
  return { round: n, plan, sum: Int32Array.from(mass.flat()), sites: 3 };
}

describe(accumulateTargets.name, () => {
  it('gathers every round, a row asked twice keeping the latest targets', () => {
    const sut = accumulateTargets(
      [
        round(
          2,
          [7, 3],
          [
            [0, 300],
            [150, 150],
          ],
        ),
        round(
          1,
          [3, 9],
          [
            [300, 0],
            [-20, 220],
          ],
        ),
      ],
      targetRuleOf({ aggregation: 'mean' } as never),
      2,
    );
    expect(sut.rows).toEqual([3, 7, 9]);
    // Row 3 from round 2 (the later), row 9 clamped at 0 then normalized (normalizedMean).
    expect([...sut.probs]).toEqual([0.5, 0.5, 0, 1, 0, 1]);
  });

  it('sharpens with ERA and drops unconfident GNMax votes', () => {
    const era = accumulateTargets(
      [round(1, [0], [[200, 100]])],
      targetRuleOf({ aggregation: 'era', eraTemperature: 0.1 } as never),
      2,
    );
    const p = 1 / (1 + Math.exp(-(2 / 3 - 1 / 3) / 0.1));
    expect(era.probs[0]).toBeCloseTo(p, 6);
    const votes = { ...round(1, [4, 5], []), sum: Int32Array.from([9, 1, 3, 2]) };
    const gnmax = accumulateTargets(
      [{ ...votes, plan: { ...votes.plan, release: { ...votes.plan.release, summary: 'votes' } } }],
      targetRuleOf({ aggregation: 'gnmax', gnmaxThreshold: 5 } as never),
      2,
    );
    expect(gnmax.rows).toEqual([4]);
    expect([...gnmax.probs]).toEqual([1, 0]);
  });
});
