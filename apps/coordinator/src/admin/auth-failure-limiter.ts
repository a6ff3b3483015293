import { RateLimitedError } from '../domain/errors';

/** Refused before authentication: too many failures from one address; carries Retry-After. */
export class AuthRateLimitedError extends RateLimitedError {
  constructor(
    address: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `too many failed authentications from ${address}: retry in ${retryAfterSeconds} s (admin.authFailures)`,
    );
  }
}

/**
 * Counts failed authentications per client address in a sliding window and refuses an address
 * that reached `limit` until its oldest failure leaves the window. Successes do not reset the
 * count: an attacker with one valid token must not earn guesses with it.
 */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    /** Addresses tracked at most; the longest-idle is forgotten first (bounds memory under a flood). */
    private readonly maxAddresses = 10_000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`'limit' must be an integer >= 1`);
    if (!(windowMs > 0)) throw new RangeError(`'windowMs' must be > 0`);
  }

  private recent(address: string): number[] {
    const since = this.now() - this.windowMs;
    const kept = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.failures.delete(address);
    else this.failures.set(address, kept);
    return kept;
  }

  /** Throws AuthRateLimitedError when `address` may not try again yet. */
  check(address: string): void {
    const recent = this.recent(address);
    if (recent.length < this.limit) return;
    const oldest = recent[recent.length - this.limit] as number;
    const waitMs = oldest + this.windowMs - this.now();
    throw new AuthRateLimitedError(address, Math.max(1, Math.ceil(waitMs / 1000)));
  }

  /** Records one failed authentication from `address`. */
  fail(address: string): void {
    const recent = this.recent(address);
    this.failures.delete(address); // re-inserted last: Map order is least recently failed first
    this.failures.set(address, [...recent, this.now()]);
    if (this.failures.size > this.maxAddresses) {
      const idlest = this.failures.keys().next().value;
      if (idlest !== undefined) this.failures.delete(idlest);
    }
  }
}
