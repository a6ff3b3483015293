import { confidentGnmax, gnmaxCharges, noisyArgmax } from './gnmax';
import { PrivacyLedger } from './ledger';

describe('confident GNMax', () => {
  it('answers the argmax only when the check clears the threshold', () => {
    expect(noisyArgmax([3, 9.5, 9.4, -2])).toBe(1);
    expect(confidentGnmax([10, 250, 40], [12, 230, 60], 200)).toBe(1);
    expect(confidentGnmax([10, 150, 40], [12, 230, 60], 200)).toBeNull();
  });

  it('charges the check for every query and GNMax for the answered ones', () => {
    const charges = gnmaxCharges('r1', 100, 40, 40, 150);
    expect(charges.map((c) => [c.mechanism.kind, c.count])).toEqual([
      ['gnmax-threshold', 100],
      ['gnmax', 40],
    ]);
    const ledger = new PrivacyLedger(10, 1e-8);
    charges.forEach((c) => ledger.commit(c));
    const plain = new PrivacyLedger(10, 1e-8);
    gnmaxCharges('r1', 100, 100, 40).forEach((c) => plain.commit(c));
    // Abstaining on 60 queries costs less than answering all of them with the same σ2.
    expect(ledger.spent.epsilon).toBeLessThan(plain.spent.epsilon);
    expect(() => gnmaxCharges('r1', 10, 11, 40)).toThrow("'answered'");
  });
});
