import { AuthFailureLimiter, AuthRateLimitedError } from './auth-failure-limiter';

describe(AuthFailureLimiter.name, () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('refuses an address after `limit` failures in the window, with the seconds until one expires', () => {
    const sut = new AuthFailureLimiter(3, 60_000, clock);
    for (let i = 0; i < 3; i++) {
      sut.check('10.0.0.1');
      sut.fail('10.0.0.1');
      now += 10_000; // failures at 0 s, 10 s, 20 s
    }
    // now = 30 s: the oldest failure (0 s) leaves the window at 60 s.
    expect(() => sut.check('10.0.0.1')).toThrow(AuthRateLimitedError);
    try {
      sut.check('10.0.0.1');
    } catch (err) {
      expect((err as AuthRateLimitedError).retryAfterSeconds).toBe(30);
      expect((err as Error).message).toBe(
        'too many failed authentications from 10.0.0.1: retry in 30 s (admin.authFailures)',
      );
    }
    expect(() => sut.check('10.0.0.2')).not.toThrow();
  });

  it('admits the address again once failures slide out of the window', () => {
    const sut = new AuthFailureLimiter(2, 1_000, clock);
    sut.fail('a');
    now += 400;
    sut.fail('a');
    expect(() => sut.check('a')).toThrow(AuthRateLimitedError);
    now += 600; // the first failure is exactly 1 s old: out
    expect(() => sut.check('a')).not.toThrow();
    sut.fail('a');
    expect(() => sut.check('a')).toThrow(/retry in 1 s/);
  });

  it('forgets the longest-idle address past maxAddresses (memory stays bounded under a flood)', () => {
    const sut = new AuthFailureLimiter(1, 60_000, clock, 2);
    sut.fail('a');
    sut.fail('b');
    sut.fail('c'); // 'a' is dropped
    expect(() => sut.check('a')).not.toThrow();
    expect(() => sut.check('b')).toThrow(AuthRateLimitedError);
    expect(() => sut.check('c')).toThrow(AuthRateLimitedError);
  });

  it('names a bad limit or window', () => {
    expect(() => new AuthFailureLimiter(0, 1000)).toThrow("'limit' must be an integer >= 1");
    expect(() => new AuthFailureLimiter(1, 0)).toThrow("'windowMs' must be > 0");
  });
});
