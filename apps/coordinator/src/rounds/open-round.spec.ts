import { encodeState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import { RequestInvalidError } from '../domain/errors';
import { EngineContext, type EngineDeps } from './engine-context';
import { openRound } from './open-round';

describe(openRound.name, () => {
  it('refuses a second start of the same federation while the first is still planning, and allows one after', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    // The first start waits inside planning (as least-confident selection waits for the student);
    // every start then fails on an unknown federation, which is enough to see the guard.
    const deps = {
      federations: {
        get: async (id: string) => {
          calls += 1;
          if (calls === 1) await held;
          throw new RequestInvalidError(`federation '${id}' does not exist`);
        },
      },
    } as unknown as EngineDeps;
    const ctx = new EngineContext(deps);
    const first = openRound(ctx, 'fed', undefined);
    await expect(openRound(ctx, 'fed', undefined)).rejects.toThrow(
      "a round of federation 'fed' is being opened (its queries wait for the latest student); try again when it is announced",
    );
    // Another federation is not held up.
    await expect(openRound(ctx, 'other', undefined)).rejects.toThrow("federation 'other' does not exist");
    release();
    await expect(first).rejects.toThrow("federation 'fed' does not exist");
    await expect(openRound(ctx, 'fed', undefined)).rejects.toThrow("federation 'fed' does not exist");
  });

  describe('caps', () => {
    /** Earlier rounds of federation 'fed': [kind, status] each, numbered 1, 2, ... */
    const records = (rounds: Array<['distill' | 'evaluation' | undefined, RoundRecord['status']]>) =>
      rounds.map(([kind, status], i) => ({
        federationId: 'fed',
        round: i + 1,
        status,
        stage: 'done',
        engine: encodeState({ plan: kind ? { kind } : {} }),
        createdAt: 0,
        updatedAt: 0,
      }));
    /**
     * A context whose federation allows 2 distillation and 1 evaluation round (or, for a
     * definition stored before rounds.maxEvaluationRounds, none given). A round that passes the
     * caps goes on to planning, where the fakes stop it with a sentinel.
     */
    const context = (previous: RoundRecord[], maxEvaluationRounds: number | null = 1) => {
      const rounds = {
        minSites: 1,
        maxRounds: 2,
        ...(maxEvaluationRounds === null ? {} : { maxEvaluationRounds }),
      };
      return new EngineContext({
        federations: {
          get: () => Promise.resolve({ id: 'fed', members: ['a'], rounds, privacy: { summary: 'votes' } }),
        },
        sites: { list: () => Promise.resolve([{ name: 'a', online: true, signingPublicKey: '00' }]) },
        store: {
          rounds: { list: () => Promise.resolve(previous) },
          students: { latest: () => Promise.reject(new Error('planning an evaluation')) },
        },
        queryPlanner: { choose: () => Promise.reject(new Error('planning a distillation round')) },
      } as unknown as EngineDeps);
    };
    const distill = (ctx: EngineContext) => openRound(ctx, 'fed', undefined);
    const evaluation = (ctx: EngineContext) => openRound(ctx, 'fed', {});

    it('counts only completed distillation rounds toward rounds.maxRounds', async () => {
      // Two abandoned rounds and two evaluations leave one completed distillation round: room for another.
      const room = context(
        records([
          ['distill', 'abandoned'],
          ['distill', 'completed'],
          ['evaluation', 'completed'],
          [undefined, 'abandoned'],
        ]),
        5,
      );
      await expect(distill(room)).rejects.toThrow('planning a distillation round');
      // A round planned before kinds were recorded is a distillation round.
      const full = context(
        records([
          ['distill', 'completed'],
          [undefined, 'completed'],
        ]),
      );
      await expect(distill(full)).rejects.toThrow(
        "federation 'fed' has had its 2 distillation rounds (rounds.maxRounds counts completed distillation rounds; abandoned and evaluation rounds do not count)",
      );
    });

    it('still evaluates the final student once rounds.maxRounds distillation rounds completed', async () => {
      const done = records([
        ['distill', 'completed'],
        ['distill', 'completed'],
      ]);
      await expect(evaluation(context(done))).rejects.toThrow('planning an evaluation');
    });

    it('counts completed evaluation rounds toward rounds.maxEvaluationRounds, abandoned ones not', async () => {
      const abandoned = records([
        ['distill', 'completed'],
        ['evaluation', 'abandoned'],
      ]);
      await expect(evaluation(context(abandoned))).rejects.toThrow('planning an evaluation');
      const evaluated = records([
        ['distill', 'completed'],
        ['evaluation', 'completed'],
      ]);
      await expect(evaluation(context(evaluated))).rejects.toThrow(
        "federation 'fed' has had its 1 evaluation round(s) (rounds.maxEvaluationRounds counts completed evaluation rounds; abandoned ones do not count)",
      );
      // ... and an evaluation does not use up a distillation round.
      await expect(distill(context(evaluated))).rejects.toThrow('planning a distillation round');
      await expect(evaluation(context(records([]), 0))).rejects.toThrow(/has had its 0 evaluation round/);
    });

    it('leaves evaluations of a definition stored before rounds.maxEvaluationRounds to the epsilon cap', async () => {
      const many = records([
        ['evaluation', 'completed'],
        ['evaluation', 'completed'],
        ['evaluation', 'completed'],
      ]);
      await expect(evaluation(context(many, null))).rejects.toThrow('planning an evaluation');
    });
  });
});
