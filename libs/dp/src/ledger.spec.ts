import { BudgetExceededError, PrivacyLedger, type Release } from './ledger';
import { privacyCost } from './cost';

const round = (label: string, count = 100): Release => ({
  label,
  mechanism: { kind: 'skellam', mu: 5000, l2: 2, l1: 4 },
  count,
});

describe(PrivacyLedger.name, () => {
  it('quotes a release without spending, then commits it', () => {
    const sut = new PrivacyLedger(4, 1e-5);
    const quote = sut.quote(round('r1'));
    expect(sut.spent.epsilon).toBe(0);
    expect(quote).toMatchObject({ label: 'r1', epsilonBefore: 0, allowed: true });
    expect(sut.commit(round('r1'))).toEqual(quote);
    expect(sut.spent.epsilon).toBeCloseTo(quote.epsilonAfter, 12);
  });

  it('refuses a release that would pass the limit and records nothing', () => {
    const sut = new PrivacyLedger(4, 1e-5);
    let committed = 0;
    for (;;) {
      const q = sut.quote(round(`r${committed}`));
      if (!q.allowed) break;
      sut.commit(round(`r${committed}`));
      committed++;
    }
    const before = sut.state;
    expect(() => sut.commit(round('too-much'))).toThrow(BudgetExceededError);
    expect(sut.state).toEqual(before);
    expect(sut.spent.epsilon).toBeLessThanOrEqual(4);
    expect(committed).toBeGreaterThan(0);
  });

  it('survives a save and resume', () => {
    const sut = new PrivacyLedger(10, 1e-6);
    sut.commit(round('a'));
    const resumed = PrivacyLedger.resume(JSON.parse(JSON.stringify(sut.state)));
    expect(resumed.quote(round('b'))).toEqual(sut.quote(round('b')));
    expect(resumed.state.entries).toHaveLength(1);
  });
});

describe('privacyCost', () => {
  it('composes queries x rounds', () => {
    const once = privacyCost({ mechanism: 'gaussian', sigma: 10, queries: 200, delta: 1e-5 });
    const split = privacyCost({ mechanism: 'gaussian', sigma: 10, queries: 20, rounds: 10, delta: 1e-5 });
    expect(split.epsilon).toBeCloseTo(once.epsilon, 12);
    expect(split.compositions).toBe(200);
  });

  it('names the option that is wrong', () => {
    expect(() => privacyCost({ mechanism: 'gaussian', queries: 1, delta: 1e-5 })).toThrow("'sigma'");
    expect(() => privacyCost({ mechanism: 'skellam', queries: 1, delta: 1e-5 })).toThrow("'mu'");
    expect(() =>
      privacyCost({ mechanism: 'gnmax', sigma: 1, sensitivity: 2, queries: 1, delta: 1e-5 }),
    ).toThrow("'sensitivity'");
    expect(() => privacyCost({ mechanism: 'gaussian', sigma: 1, queries: 0, delta: 1e-5 })).toThrow(
      "'queries'",
    );
    expect(() => privacyCost({ mechanism: 'gaussian', sigma: 1, queries: 1, delta: 2 })).toThrow("'delta'");
  });
});
