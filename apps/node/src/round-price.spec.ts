import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Mechanism, RdpAccountant, seededRandom } from '@fedistill/dp';
import { planRelease, siteRelease, type TrustAssumption, voteSummary } from '@fedistill/distill';
import type { RoundAnnouncement } from '@fedistill/wire';
import { parseFederationSpec } from '@fedistill/protocol';
import type { FederationView } from '@fedistill/protocol';
import { encodeAnnouncement } from '@fedistill/protocol';
import { planRound } from '@fedistill/protocol';
import { releaseFromAnnouncement } from './announcement-checks';
import { priceRound } from './round-price';
import { LEDGER_FILE, SiteLedger } from './site-ledger';

const Q = 20;
const CLASSES = 2;
const Z = 1.5;
const DELTA = 1e-5;
const schema = { id: 'fed', labels: ['no', 'yes'], inputShape: [3] };

/** The announcement the real coordinator planner pushes for n sites of a votes federation. */
function announce(
  n: number,
  o: { dropouts: number; colluders: number | 'all'; mechanism?: 'skellam' | 'discrete-gaussian' },
): RoundAnnouncement {
  const parsed = parseFederationSpec({
    id: 'fed',
    labels: schema.labels,
    input: { shape: schema.inputShape },
    referenceSet: { sha256: 'a'.repeat(64) },
    student: { architecture: 'mlp' },
    privacy: {
      mechanism: o.mechanism ?? 'skellam',
      summary: 'votes',
      noiseMultiplier: Z,
      epsilonCap: 100,
      assumedColluders: o.colluders,
    },
    secureAggregation: { dropoutTolerance: o.dropouts, maxTeachersPerSite: 8, neighbours: 0 },
    rounds: { minSites: 2, queriesPerRound: Q },
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const view: FederationView = { ...parsed.spec, members: [], createdAt: '', privacyOff: false };
  const sites = Array.from({ length: n }, (_v, i) => ({
    name: `site-${i}`,
    signingPublicKey: (i % 10).toString().repeat(64),
  }));
  return encodeAnnouncement(
    planRound(
      parsed.spec,
      1,
      sites,
      Array.from({ length: Q }, (_v, i) => i),
      Date.now(),
    ),
    view,
  );
}

const epsilonOf = (m: Mechanism, rounds = 1) => new RdpAccountant().add(m, rounds).epsilon(DELTA).epsilon;

/*
 * Independent figures, from first principles and the papers, sharing no code with libs/dp or
 * libs/distill. One record changes one teacher's Q votes; each changed vote moves two counts by
 * one: Δ2 = sqrt(2Q), Δ1 = 2Q (Papernot et al. 2018, arXiv:1802.08908, §4.1).
 */
const L2SQ = 2 * Q;
const L1 = 2 * Q;
/** Gaussian RDP (Mironov 2017, arXiv:1702.07476, Table II): α Δ2² / (2σ²). */
const gaussianRdp = (alpha: number, variance: number) => (alpha * L2SQ) / (2 * variance);
/** Skellam Sk(μ) RDP at integer α (Agarwal, Kairouz, Liu 2021, arXiv:2110.04995, Theorem 3.5). */
const skellamRdp = (alpha: number, mu: number) =>
  (alpha * L2SQ) / (4 * mu) +
  Math.min(((2 * alpha - 1) * L2SQ + 6 * L1) / (16 * mu * mu), (3 * L1) / (4 * mu));
/** RDP to (ε, δ) (Canonne, Kamath, Steinke 2020, arXiv:2004.00010, Proposition 12), on our own grid. */
function toEpsilon(rdp: (alpha: number) => number, orders: number[]): number {
  let best = Infinity;
  for (const a of orders)
    best = Math.min(best, rdp(a) + Math.log((a - 1) / a) - (Math.log(DELTA) + Math.log(a)) / (a - 1));
  return best;
}
/** Gaussian: the infimum over real α > 1, by a 0.01 grid to 301 and then a 1e-5 grid around its best. */
function gaussianEpsilon(rounds: number, variance: number): number {
  const rdp = (al: number) => rounds * gaussianRdp(al, variance);
  let best = 1.001;
  let value = Infinity;
  for (let al = 1.001; al < 301; al += 0.01) {
    const e = toEpsilon(rdp, [al]);
    if (e < value) [best, value] = [al, e];
  }
  const lo = Math.max(1.00001, best - 0.01);
  return toEpsilon(
    rdp,
    Array.from({ length: 2001 }, (_v, i) => lo + i * 1e-5),
  );
}
const INTEGERS = Array.from({ length: 1023 }, (_v, i) => i + 2);

describe(priceRound.name, () => {
  let dir: string;
  const open: SiteLedger[] = [];
  /** The site's real ledger (durable, locked) in a fresh folder under `dir`. */
  const siteLedger = async (epsilonLimit: number) => {
    const ledger = await SiteLedger.open(fs.mkdtempSync(path.join(dir, 'node-')), {
      epsilonLimit,
      delta: DELTA,
    });
    open.push(ledger);
    return ledger;
  };
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-price-'))));
  afterEach(() => {
    for (const l of open.splice(0)) l.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('attack: nine sybils that add no noise leave only the target share; a paranoid site is charged at least the real epsilon, the old charge was below it', async () => {
    // The coordinator plans as before this fix (every other participant trusted: C = 0), then
    // fills the round with nine sybils of its own.
    const a = announce(10, { dropouts: 1, colluders: 0 });
    const { spec, plan } = releaseFromAnnouncement(a, schema, 5, false);
    // Teachers' probabilities over two classes, varied by seed (their values do not matter).
    const teachers = (seed: number) =>
      Array.from({ length: 5 }, (_t, t) =>
        Float32Array.from({ length: Q * CLASSES }, (_v, i) => {
          const p = (((seed * 31 + t * 7 + (i >> 1) * 13) % 17) + 0.5) / 17.5;
          return i % 2 === 0 ? p : 1 - p;
        }),
      );
    const quiet = planRelease({ ...spec, noise: null });
    const random = seededRandom(7);
    const residuals: number[] = [];
    for (let round = 0; round < 50; round += 1) {
      const mine = teachers(100 + round);
      const target = siteRelease(mine, spec, plan, random); // the real site: votes + its share
      // The sybils follow the protocol except that they add no noise (siteRelease without noise).
      const sybils = Array.from({ length: 9 }, (_v, s) => siteRelease(teachers(s), spec, quiet, random));
      const sum = target.map((v, i) => v + sybils.reduce((t, x) => t + (x[i] as number), 0));
      // What secure aggregation reveals is `sum`; the coordinator knows every sybil's input.
      const recovered = sum.map((v, i) => v - sybils.reduce((t, x) => t + (x[i] as number), 0));
      const signal = voteSummary(mine, { queries: Q, classes: CLASSES });
      recovered.forEach((v, i) => residuals.push(v - (signal[i] as number)));
    }
    // The noise actually protecting the target: measured, it is one share (V/9), not V.
    const mean = residuals.reduce((s, v) => s + v, 0) / residuals.length;
    const measured = residuals.reduce((s, v) => s + (v - mean) ** 2, 0) / (residuals.length - 1);
    const share = a.siteNoiseStddev ** 2;
    const target = (Z * Math.sqrt(L2SQ)) ** 2;
    expect(share).toBeCloseTo(target / 9, 6);
    expect(measured).toBeGreaterThan(0.85 * share);
    expect(measured).toBeLessThan(1.15 * share);
    // Actual privacy: the accountant on the noise present (one Skellam share, μ = v/2).
    const actual = epsilonOf({ kind: 'skellam', mu: share / 2, l2: Math.sqrt(L2SQ), l1: L1 });
    const old = epsilonOf(plan.mechanism!); // what the node charged before: the announced total
    expect(old).toBeLessThan(actual / 2);
    const ledger = await siteLedger(1000);
    const paranoid = priceRound(plan, { kind: 'paranoid' }, ledger, 'fed#1')!;
    expect(paranoid.epsilon).toBeGreaterThanOrEqual(actual * (1 - 1e-9));
    ledger.commit(paranoid.release);
    expect(ledger.spent).toBeGreaterThanOrEqual(actual * (1 - 1e-9));
    // A site assuming 7 colluders counts its own share and one more of the 9 survivors: two
    // shares, exactly what is left when only seven of its peers are sybils.
    const seven = priceRound(plan, { kind: 'colluders', colluders: 7 }, ledger, 'fed#1')!;
    expect(seven.epsilon).toBeCloseTo(
      epsilonOf({ kind: 'skellam', mu: share, l2: Math.sqrt(L2SQ), l1: L1 }),
      9,
    );
    expect(seven.epsilon).toBeLessThan(paranoid.epsilon);
  });

  it.each(['skellam', 'discrete-gaussian'] as const)(
    'charges the %s ledger for its own share plus n - T - C - 1 honest others, as computed from first principles',
    async (mechanism) => {
      const n = 6;
      const dropouts = 1;
      for (const planned of [0, 2, 'all'] as const) {
        const a = announce(n, { dropouts, colluders: planned, mechanism });
        const { plan } = releaseFromAnnouncement(a, schema, 4, false);
        const plannedC = planned === 'all' ? n - dropouts - 1 : planned;
        // The planner's share: V/(n - T - C) with V = (z Δ2)².
        const v = (Z * Z * L2SQ) / (n - dropouts - plannedC);
        expect(a.siteNoiseStddev ** 2).toBeCloseTo(v, 6);
        expect(a.assumedColluders).toBe(plannedC);
        const trusts: TrustAssumption[] = [
          { kind: 'paranoid' },
          ...[0, 1, 2, 3, 4, 5, 9].map((c) => ({ kind: 'colluders' as const, colluders: c })),
        ];
        for (const trust of trusts) {
          const k = trust.kind === 'paranoid' ? 1 : Math.max(1, n - dropouts - trust.colluders);
          const counted = k * v;
          const independent = (rounds: number) =>
            mechanism === 'skellam'
              ? toEpsilon((al) => rounds * skellamRdp(al, counted / 2), INTEGERS)
              : gaussianEpsilon(rounds, counted);
          const ledger = await siteLedger(1e6);
          for (let r = 1; r <= 3; r += 1) {
            const price = priceRound(plan, trust, ledger, `fed#${r}`)!;
            ledger.commit(price.release);
            const expected = independent(r);
            // Sound (never below the first-principles figure) and tight (the accountant's coarser
            // grid of orders and KLS21's τ terms cost at most a few per cent here).
            expect(ledger.spent).toBeGreaterThanOrEqual(expected * (1 - 1e-6));
            expect(ledger.spent).toBeLessThan(expected * 1.05);
          }
        }
      }
    },
  );

  it('a site whose assumption is stricter than the plan computes a higher epsilon and declines past its limit, naming both assumptions', async () => {
    const a = announce(4, { dropouts: 1, colluders: 0 });
    const { plan } = releaseFromAnnouncement(a, schema, 4, false);
    const probe = await siteLedger(1e6);
    const trusting = priceRound(plan, { kind: 'colluders', colluders: 0 }, probe, 'fed#1')!;
    const paranoidEpsilon = priceRound(plan, { kind: 'paranoid' }, probe, 'fed#1')!.epsilon;
    expect(trusting.epsilon).toBeCloseTo(epsilonOf(plan.mechanism!), 9);
    expect(paranoidEpsilon).toBeGreaterThan(1.5 * trusting.epsilon);
    const limit = (trusting.epsilon + paranoidEpsilon) / 2;
    const ledgerDir = fs.mkdtempSync(path.join(dir, 'limited-'));
    const ledger = await SiteLedger.open(ledgerDir, { epsilonLimit: limit, delta: DELTA });
    open.push(ledger);
    expect(priceRound(plan, { kind: 'colluders', colluders: 0 }, ledger, 'fed#1')!.refusal).toBeNull();
    const strict = priceRound(plan, { kind: 'paranoid' }, ledger, 'fed#1')!;
    expect(strict.refusal).toMatch(/past its limit/);
    expect(strict.refusal).toContain(
      "the round's noise plan counts on 3 honest noise shares (assuming at most 0 of 4 participants collude with the coordinator and at most 1 drops out), this site counts on 1",
    );
    expect(strict.refusal).toMatch(/node\.yaml privacy\.trust/);
    // Declining records nothing.
    expect(fs.existsSync(path.join(ledgerDir, LEDGER_FILE))).toBe(false);
    expect(ledger.entries).toHaveLength(0);
    // A site that assumes what the plan assumes reaches exactly the federation's target.
    const same = priceRound(plan, { kind: 'colluders', colluders: 0 }, ledger, 'fed#1')!;
    expect(same.assumption).toBe(
      'assuming at most 0 of 4 participants collude with the coordinator and at most 1 drops out',
    );
    const paranoidPlan = releaseFromAnnouncement(
      announce(4, { dropouts: 1, colluders: 'all' }),
      schema,
      4,
      false,
    );
    expect(priceRound(paranoidPlan.plan, { kind: 'paranoid' }, ledger, 'x')!.epsilon).toBeCloseTo(
      epsilonOf(paranoidPlan.plan.mechanism!),
      9,
    );
  });
});
