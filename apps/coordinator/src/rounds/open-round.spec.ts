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
});
