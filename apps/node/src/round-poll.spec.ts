import { status } from '@grpc/grpc-js';
import { pollRound } from './round-poll';
import { RoundSignals } from './round-signals';

describe(pollRound.name, () => {
  const wait = { federationId: 'fed', round: 1, lastDeadline: 0 };
  const fast = { firstMs: 1, maxMs: 4 };
  const failing = (code: number) => Object.assign(new Error(`${code} from the coordinator`), { code });

  /** A call that fails with `codes` in turn, then answers 'ok'; counts its calls. */
  function call(...codes: number[]) {
    const fn = jest.fn(() => {
      const code = codes.shift();
      return code === undefined ? Promise.resolve('ok') : Promise.reject(failing(code));
    });
    return fn;
  }

  it('asks again while the stage is open, the coordinator is away, or no answer came in time', async () => {
    const fn = call(
      status.FAILED_PRECONDITION,
      status.DEADLINE_EXCEEDED,
      status.UNAVAILABLE,
      status.DEADLINE_EXCEEDED,
    );
    await expect(pollRound(new RoundSignals(), wait, 10_000, fn, fast)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(5);
  });

  it('gives up at once on a refusal', async () => {
    for (const code of [
      status.INVALID_ARGUMENT,
      status.PERMISSION_DENIED,
      status.UNAUTHENTICATED,
      status.NOT_FOUND,
    ]) {
      const fn = call(code);
      await expect(pollRound(new RoundSignals(), wait, 10_000, fn, fast)).rejects.toMatchObject({ code });
      expect(fn).toHaveBeenCalledTimes(1);
    }
  });

  it('gives up once the event stream said the round finished', async () => {
    const signals = new RoundSignals();
    signals.notify('fed', 1, true);
    const fn = call(status.DEADLINE_EXCEEDED, status.DEADLINE_EXCEEDED);
    await expect(pollRound(signals, wait, 10_000, fn, fast)).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
    });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('gives up after its timeout when the round deadline passed long ago', async () => {
    const fn = jest.fn(() => Promise.reject(failing(status.DEADLINE_EXCEEDED)));
    await expect(pollRound(new RoundSignals(), wait, 30, fn, fast)).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
    });
    expect(fn.mock.calls.length).toBeGreaterThan(2);
  });
});
