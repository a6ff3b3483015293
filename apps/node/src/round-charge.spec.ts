import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planRelease, type ReleaseSpec } from '@fedistill/distill';
import { DeclineReason } from '@fedistill/wire';
import { RoundRefusal } from './announcement-checks';
import { chargeRound } from './round-charge';
import { SiteLedger } from './site-ledger';

const spec: ReleaseSpec = {
  summary: 'soft-labels',
  queries: 10,
  classes: 2,
  clipNorm: 1,
  granularity: 0.01,
  maxTeachers: 8,
  noise: { kind: 'skellam', noiseMultiplier: 2, sites: 3, toleratedDropouts: 0, assumedColluders: 2 },
};

describe(chargeRound.name, () => {
  let dir: string;
  let ledger: SiteLedger;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-charge-'));
    ledger = await SiteLedger.open(dir, { epsilonLimit: 10, delta: 1e-5 });
  });
  afterEach(() => {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prices the round and commits the spend only when asked (before the masked input leaves)', () => {
    const sut = chargeRound(planRelease(spec), { kind: 'paranoid' }, ledger, 'fed#1');
    expect(sut.epsilon).toBeGreaterThan(0);
    expect(ledger.spent).toBe(0);
    expect(sut.context).toMatchObject({
      epsilon: sut.epsilon,
      epsilonLimit: 10,
      charge: { label: 'fed#1', count: 1 },
    });
    sut.commit();
    expect(ledger.spent).toBeCloseTo(sut.epsilon!, 12);
    expect(sut.context.epsilonTotal).toBeCloseTo(ledger.spent, 12);
  });

  it('charges nothing for a round without noise', () => {
    const sut = chargeRound(planRelease({ ...spec, noise: null }), { kind: 'paranoid' }, ledger, 'fed#1');
    expect(sut).toMatchObject({ epsilon: null, context: {} });
    sut.commit();
    expect(ledger.spent).toBe(0);
  });

  it('refuses a round past the limit as budget exhausted, with the figures, and records nothing', () => {
    const tight = { ...spec, noise: { ...spec.noise!, noiseMultiplier: 0.3 } };
    let refusal: unknown;
    try {
      chargeRound(planRelease(tight), { kind: 'paranoid' }, ledger, 'fed#1');
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(RoundRefusal);
    expect((refusal as RoundRefusal).reason).toBe(DeclineReason.DECLINE_REASON_BUDGET_EXHAUSTED);
    expect((refusal as RoundRefusal).message).toMatch(/past its limit 10/);
    expect((refusal as RoundRefusal).epsilon).toMatchObject({ spent: 0, limit: 10 });
    expect((refusal as RoundRefusal).epsilon!.round).toBeGreaterThan(10);
    expect(ledger.spent).toBe(0);
  });
});
