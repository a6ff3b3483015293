import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BudgetExceededError } from '@fedistill/dp';
import { planRelease } from '@fedistill/distill';
import { DeclineReason, type RoundAnnouncement } from '@fedistill/wire';
import { parseFederationSpec } from '@fedistill/protocol';
import type { FederationView } from '@fedistill/protocol';
import { encodeAnnouncement } from '@fedistill/protocol';
import { planRound } from '@fedistill/protocol';
import { encodeNpy } from '@fedistill/data';
import { referenceRows, releaseFromAnnouncement, RoundRefusal } from './announcement-checks';
import { LEDGER_FILE, SiteLedger } from './site-ledger';

const SITES = ['a-site', 'b-site', 'c-site', 'd-site'].map((name, i) => ({
  name,
  signingPublicKey: String(i).repeat(64),
}));

/** The RoundAnnouncement the coordinator would push for this federation definition. */
function announce(
  privacy: Record<string, unknown>,
  dropoutTolerance = 1,
): { a: RoundAnnouncement; view: FederationView } {
  const parsed = parseFederationSpec({
    id: 'fed',
    labels: ['x', 'y', 'z'],
    input: { shape: [4] },
    referenceSet: { sha256: 'a'.repeat(64) },
    student: { architecture: 'mlp' },
    privacy,
    secureAggregation: { dropoutTolerance, maxTeachersPerSite: 8 },
    rounds: { minSites: 3, queriesPerRound: 20 },
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const view: FederationView = { ...parsed.spec, members: [], createdAt: '', privacyOff: false };
  const plan = planRound(
    parsed.spec,
    1,
    SITES,
    Array.from({ length: 20 }, (_v, i) => i * 5),
    Date.now(),
  );
  return { a: encodeAnnouncement(plan, view), view };
}

const schema = { id: 'fed', labels: ['x', 'y', 'z'], inputShape: [4] };

describe(releaseFromAnnouncement.name, () => {
  it("recomputes exactly the coordinator's release from the announced parameters", () => {
    const { a } = announce({ mechanism: 'skellam', noiseMultiplier: 3, epsilonCap: 10, clipNorm: 0.8 });
    const { spec, plan } = releaseFromAnnouncement(a, schema, 4, false);
    const coordinator = planRelease({
      summary: 'soft-labels',
      queries: 20,
      classes: 3,
      clipNorm: 0.8,
      granularity: 0.01,
      maxTeachers: 8,
      // The federation's default assumedColluders 'all': n - T - 1 = 2, each site adds the target.
      noise: { kind: 'skellam', noiseMultiplier: 3, sites: 4, toleratedDropouts: 1, assumedColluders: 2 },
    });
    expect(spec.noise?.noiseMultiplier).toBeCloseTo(3, 12);
    expect(spec.noise?.assumedColluders).toBe(2);
    expect(a.siteNoiseStddev).toBeCloseTo(a.aggregateNoiseStddev, 9);
    expect(plan.noise?.variance).toBeCloseTo(coordinator.noise?.variance ?? 0, 6);
    expect(plan.mechanism).toEqual(coordinator.mechanism);
    // Four teachers fit the federation's bound of eight.
    expect(plan.maxInput).toBeLessThan(a.maxInput);
  });

  it('refuses a site with more teachers than the announced bound allows', () => {
    const { a } = announce({ mechanism: 'discrete-gaussian', noiseMultiplier: 2, epsilonCap: 10 });
    expect(() => releaseFromAnnouncement(a, schema, 9, false)).toThrow(
      /exceeds the round's .*reduce teachers.count/,
    );
  });

  it('refuses an announcement whose noise share does not add up to the aggregate noise', () => {
    const { a } = announce({ mechanism: 'skellam', noiseMultiplier: 2, epsilonCap: 10 });
    const tampered = { ...a, siteNoiseStddev: a.siteNoiseStddev / 2 };
    expect(() => releaseFromAnnouncement(tampered, schema, 4, false)).toThrow(/does not match/);
    // Claiming more survivors than announced to shrink the shares is caught the same way.
    const fewer = { ...a, minSurvivors: a.minSurvivors + 1 };
    expect(() => releaseFromAnnouncement(fewer, schema, 4, false)).toThrow(/does not match/);
    // So is a share sized for fewer colluders than announced, and a plan that leaves no honest survivor.
    const trusting = { ...a, assumedColluders: 0 };
    expect(() => releaseFromAnnouncement(trusting, schema, 4, false)).toThrow(
      /does not match .* for 3 survivors and 0 assumed colluders/,
    );
    const none = { ...a, assumedColluders: a.minSurvivors };
    expect(() => releaseFromAnnouncement(none, schema, 4, false)).toThrow(
      /assumed_colluders 3 leaves no honest survivor of 3/,
    );
  });

  it('refuses a round without noise unless the site allows non-private rounds', () => {
    const { a } = announce({ mechanism: 'none' });
    let refusal: unknown;
    try {
      releaseFromAnnouncement(a, schema, 4, false);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(RoundRefusal);
    expect((refusal as RoundRefusal).reason).toBe(DeclineReason.DECLINE_REASON_PARAMETERS_REFUSED);
    expect((refusal as RoundRefusal).message).toMatch(/allowNonPrivate/);
    expect(releaseFromAnnouncement(a, schema, 4, true).plan.mechanism).toBeNull();
  });

  it('refuses a class count that differs from the federation', () => {
    const { a } = announce({ mechanism: 'skellam', noiseMultiplier: 2, epsilonCap: 10 });
    expect(() => releaseFromAnnouncement({ ...a, numClasses: 5 }, schema, 4, false)).toThrow(/5 classes/);
  });
});

describe(SiteLedger.name, () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-ledger-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const release = (label: string) => {
    const { a } = announce({ mechanism: 'skellam', noiseMultiplier: 4, epsilonCap: 10 });
    const mechanism = releaseFromAnnouncement(a, schema, 4, false).plan.mechanism;
    if (!mechanism) throw new Error('no mechanism');
    return { label, mechanism, count: 1 };
  };

  it('persists every commit, survives a restart, and refuses past the limit without recording', async () => {
    const limits = { epsilonLimit: 3, delta: 1e-5 };
    const ledger = await SiteLedger.open(dir, limits);
    const first = ledger.commit(release('fed#1'));
    ledger.close();
    const reopened = await SiteLedger.open(dir, limits);
    expect(reopened.spent).toBeCloseTo(first.epsilonAfter, 10);
    let committed = 1;
    for (;;) {
      const q = reopened.quote(release(`fed#${committed + 1}`));
      if (!q.allowed) break;
      reopened.commit(release(`fed#${committed + 1}`));
      committed += 1;
    }
    const before = fs.readFileSync(path.join(dir, LEDGER_FILE), 'utf8');
    expect(() => reopened.commit(release('over'))).toThrow(BudgetExceededError);
    expect(fs.readFileSync(path.join(dir, LEDGER_FILE), 'utf8')).toBe(before);
    reopened.close();
    expect(SiteLedger.read(dir, limits).entries).toHaveLength(committed);
    expect(committed).toBeGreaterThan(1);
    expect(reopened.spent).toBeLessThanOrEqual(3);
  });

  it('refuses to start from a damaged ledger instead of resetting the budget', async () => {
    fs.writeFileSync(path.join(dir, LEDGER_FILE), '{"orders": [2], "curve": ');
    await expect(SiteLedger.open(dir, { epsilonLimit: 3, delta: 1e-5 })).rejects.toThrow(
      /damaged.*restore it/,
    );
  });
});

describe(referenceRows.name, () => {
  it('reads the queried rows as float32 and refuses an index outside the reference set', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-ref-'));
    try {
      const file = path.join(dir, 'reference.npy');
      fs.writeFileSync(file, encodeNpy([3, 2], Float32Array.from([0, 1, 10, 11, 20, 21])));
      expect([...referenceRows(file, [2, 0], [2])]).toEqual([20, 21, 0, 1]);
      let refusal: unknown;
      try {
        referenceRows(file, [3], [2]);
      } catch (err) {
        refusal = err;
      }
      expect(refusal).toBeInstanceOf(RoundRefusal);
      expect((refusal as RoundRefusal).message).toBe("query index 3 is outside the reference set's 3 rows");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
