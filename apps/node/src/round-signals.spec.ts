import { RoundSignals } from './round-signals';

describe(RoundSignals.name, () => {
  const elapsed = async (p: Promise<void>): Promise<number> => {
    const start = Date.now();
    await p;
    return Date.now() - start;
  };

  it("wakes a wait at the round's signal, long before its backoff ends", async () => {
    const sut = new RoundSignals();
    const signal = sut.next('fed', 3);
    const waiting = signal.wait(60_000);
    sut.notify('fed', 3);
    expect(await elapsed(waiting)).toBeLessThan(30_000);
  });

  it('remembers a signal that came before the wait began (while the request was in flight)', async () => {
    const sut = new RoundSignals();
    const signal = sut.next('fed', 3);
    sut.notify('fed', 3);
    expect(await elapsed(signal.wait(60_000))).toBeLessThan(30_000);
  });

  it("ignores other rounds' signals and ends the wait after the backoff", async () => {
    const sut = new RoundSignals();
    const signal = sut.next('fed', 3);
    sut.notify('fed', 4);
    sut.notify('other', 3);
    expect(await elapsed(signal.wait(50))).toBeGreaterThanOrEqual(45);
  });

  it('forgets cancelled waiters', () => {
    const sut = new RoundSignals();
    sut.next('fed', 3).cancel();
    expect((sut as unknown as { waiters: Map<string, unknown> }).waiters.size).toBe(0);
  });
});
