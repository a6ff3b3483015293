import { status, type ServiceError } from '@grpc/grpc-js';
import type { RoundSignals } from './round-signals';

/** The first and the longest wait between two asks of an open stage. */
export const POLL_FIRST_MS = 100;
export const POLL_MAX_MS = 2_000;
/** How far the coordinator's clock may be ahead of the site's when a round's deadline is read. */
const DEADLINE_SKEW_MS = 60_000;

/** How long a site keeps asking about one round. */
export interface RoundWait {
  readonly federationId: string;
  readonly round: number;
  /** The round's last stage deadline (Unix ms, the coordinator's clock), as announced. */
  readonly lastDeadline: number;
}

/**
 * What a round call is asked again on: the stage is still open (FAILED_PRECONDITION), the
 * coordinator is away or its storage is (UNAVAILABLE), or no answer came within the call's
 * deadline (DEADLINE_EXCEEDED: a coordinator busy with hundreds of sites at a stage's start).
 * Asking again is safe because the coordinator answers a repeated round message as it answered
 * the first and applies it once, even while the first copy still waits its turn (its round
 * engine's `mutate`; docs/reliability.md, Load), and the site sends the same bytes.
 */
const ASKED_AGAIN: ReadonlySet<number> = new Set([
  status.FAILED_PRECONDITION,
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
]);

/**
 * Calls `fn` until the coordinator has what it asks for: on a code in ASKED_AGAIN it asks again
 * when the event stream says the round moved on, or after a backoff doubling from `firstMs` to
 * `maxMs` (jittered). A stage that takes minutes costs a few requests, not ten a second. It gives
 * up once the event stream said the round finished, or when the round's last announced deadline
 * (plus a minute for clock skew) has passed, but never before `timeoutMs`: a site does not
 * abandon a round the coordinator still holds open because other sites are slow.
 */
export async function pollRound<T>(
  signals: RoundSignals,
  wait: RoundWait,
  timeoutMs: number,
  fn: () => Promise<T>,
  { firstMs = POLL_FIRST_MS, maxMs = POLL_MAX_MS } = {},
): Promise<T> {
  const until = Math.max(Date.now() + timeoutMs, wait.lastDeadline + DEADLINE_SKEW_MS);
  let delay = firstMs;
  for (;;) {
    const signal = signals.next(wait.federationId, wait.round);
    try {
      return await fn();
    } catch (err) {
      const code = (err as ServiceError).code;
      if (!ASKED_AGAIN.has(code) || Date.now() > until || signals.finished(wait.federationId, wait.round))
        throw err;
      await signal.wait(delay * (0.75 + 0.5 * Math.random()));
      delay = Math.min(maxMs, delay * 2);
    } finally {
      signal.cancel();
    }
  }
}
