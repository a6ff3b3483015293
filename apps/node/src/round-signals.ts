/**
 * Wakes a round's participant when the coordinator's event stream says the round moved on (a
 * stage opened, the round finished), so a site waiting for a stage's output asks again at once
 * instead of polling the coordinator on a short timer. The stream is a hint only: the participant
 * still asks, checks what it gets, and keeps a slow backoff in case the stream is down.
 */
export class RoundSignals {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Rounds the stream said finished (completed or abandoned), the latest few hundred. */
  private readonly ended = new Set<string>();

  /** The round `federationId`/`round` moved on (`finished`: it completed or was abandoned): wakes everyone waiting for it. */
  notify(federationId: string, round: number, finished = false): void {
    const key = `${federationId}#${round}`;
    if (finished) {
      this.ended.add(key);
      if (this.ended.size > 512) this.ended.delete(this.ended.values().next().value as string);
    }
    const waiting = this.waiters.get(key);
    this.waiters.delete(key);
    for (const wake of waiting ?? []) wake();
  }

  /** Whether the stream said the round finished: nothing more can be asked of it. */
  finished(federationId: string, round: number): boolean {
    return this.ended.has(`${federationId}#${round}`);
  }

  /**
   * Resolves at the round's next signal or after `ms`, whichever comes first. `next` subscribes at
   * once, so a signal that arrives while the caller's request is still in flight is not missed.
   */
  next(federationId: string, round: number): { wait(ms: number): Promise<void>; cancel(): void } {
    const key = `${federationId}#${round}`;
    let signalled = false;
    let wake: (() => void) | undefined;
    const onSignal = () => {
      signalled = true;
      wake?.();
    };
    const set = this.waiters.get(key) ?? new Set();
    set.add(onSignal);
    this.waiters.set(key, set);
    const cancel = () => {
      set.delete(onSignal);
      if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
    };
    return {
      wait: (ms) =>
        signalled
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const timer = setTimeout(() => resolve(), ms);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            }).finally(cancel),
      cancel,
    };
  }
}
