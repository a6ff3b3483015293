import type { SecAggConfig } from './config';
import { decodeSigned, encodeSigned, neighbourGraph, validateConfig } from './config';
import { consistencyQuorum } from './consistency';
import { seededRandom } from './random';
import { type DropStage, makeIdentities, simulateRound } from './simulate';

const STAGES: DropStage[] = ['keys', 'shares', 'input', 'sign', 'unmask'];

function config(n: number, over: Partial<SecAggConfig> = {}): SecAggConfig {
  return {
    roundId: 'round-1',
    siteIds: Array.from({ length: n }, (_, i) => 10 + 3 * i),
    threshold: Math.floor((n - 1) / 2) + 1,
    neighbours: 'all',
    bits: 32,
    maxInput: 2 ** 24,
    length: 5,
    ...over,
  };
}

function randomInputs(c: SecAggConfig, seed: number): Map<number, Uint32Array> {
  const random = seededRandom(seed);
  return new Map(
    c.siteIds.map((id) => {
      const v = new Uint32Array(random.fill(new Uint8Array(c.length * 4)).buffer);
      for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) % (c.maxInput + 1);
      return [id, v];
    }),
  );
}

function plainSum(
  c: SecAggConfig,
  inputs: ReadonlyMap<number, Uint32Array>,
  ids: readonly number[],
): Uint32Array {
  const out = new Uint32Array(c.length);
  for (const id of ids) inputs.get(id)!.forEach((x, i) => (out[i] = (out[i] as number) + x));
  return out;
}

// An independent oracle of the protocol's outcome: which sets form at each stage and whether
// every secret that must be rebuilt has t holders among the responders. `graphSeed` is the
// seed the round derived from its roster (null if it never got that far).
function expectedSurvivors(
  c: SecAggConfig,
  drops: ReadonlyMap<number, DropStage>,
  graphSeed: Uint8Array | null,
): number[] | undefined {
  const reaches = (id: number, stage: DropStage): boolean =>
    drops.get(id) === undefined || STAGES.indexOf(drops.get(id)!) > STAGES.indexOf(stage);
  const u1 = c.siteIds.filter((id) => reaches(id, 'keys'));
  if (u1.length < c.threshold || !graphSeed) return undefined;
  const graph = neighbourGraph(c, graphSeed);
  const enough = (id: number, among: number[]): boolean =>
    graph.get(id)!.filter((w) => among.includes(w)).length >= c.threshold;
  const u2 = u1.filter((id) => reaches(id, 'shares') && enough(id, u1));
  if (u2.length < c.threshold) return undefined;
  // A site refuses a delivery in which fewer than t of its neighbours shared.
  const u3 = u2.filter((id) => reaches(id, 'input') && enough(id, u2));
  const quorum = consistencyQuorum(c);
  if (u3.length < Math.max(c.threshold, quorum)) return undefined;
  if (u3.some((u) => !graph.get(u)!.some((w) => u3.includes(w)))) return undefined;
  const u4 = u3.filter((id) => reaches(id, 'sign'));
  if (u4.length < quorum) return undefined;
  const u5 = u4.filter((id) => reaches(id, 'unmask'));
  const holders = (id: number): number => graph.get(id)!.filter((w) => u5.includes(w)).length;
  if (u2.some((id) => holders(id) < c.threshold)) return undefined;
  return u3;
}

describe('secure aggregation round', () => {
  it.each([2, 3, 10, 100])('masks cancel exactly for random inputs, full mesh, n = %i', (n) => {
    const c = config(n);
    const inputs = randomInputs(c, n);
    const { outcome } = simulateRound(c, inputs, { random: seededRandom(100 + n) });
    expect(outcome).toEqual({ status: 'done', sum: plainSum(c, inputs, c.siteIds), survivors: c.siteIds });
  });

  it.each([
    [20, 4, 3],
    [100, 6, 4],
    [100, 10, 6],
  ])('masks cancel exactly, n = %i with %i neighbours, t = %i', (n, k, t) => {
    const c = config(n, { neighbours: k, threshold: t, length: 3 });
    const inputs = randomInputs(c, n);
    const { outcome } = simulateRound(c, inputs, { random: seededRandom(k) });
    expect(outcome.status === 'done' && outcome.sum).toEqual(plainSum(c, inputs, c.siteIds));
  });

  it('works in a small ring: b = 12 with the largest allowed inputs', () => {
    const c = config(5, { bits: 12, maxInput: Math.floor(4095 / 5) });
    const inputs = new Map(c.siteIds.map((id) => [id, new Uint32Array(c.length).fill(c.maxInput)]));
    const { outcome } = simulateRound(c, inputs, { random: seededRandom(5) });
    expect(outcome.status === 'done' && Array.from(outcome.sum)).toEqual(
      Array(c.length).fill(5 * c.maxInput),
    );
  });

  it('never unmasks fewer than minSurvivors inputs (the distributed-noise floor)', () => {
    const c = config(6, { threshold: 3, minSurvivors: 5 });
    const inputs = randomInputs(c, 6);
    const drops = new Map<number, DropStage>([
      [c.siteIds[0]!, 'input'],
      [c.siteIds[1]!, 'input'],
    ]);
    const { outcome, sites } = simulateRound(c, inputs, { drops, random: seededRandom(2) });
    expect(outcome).toEqual({
      status: 'abandoned',
      reason: 'only 4 sites sent masked inputs; threshold is 5',
    });
    const request = {
      roundId: c.roundId,
      to: c.siteIds[2]!,
      survivors: c.siteIds.slice(2),
      dropped: c.siteIds.slice(0, 2),
    };
    expect(() => sites.get(c.siteIds[2]!)!.signSurvivors(request)).toThrow(/only 4 survivors, threshold 5/);
  });

  it("sums signed (noisy) inputs in two's complement", () => {
    const c = config(6, { bits: 16, maxInput: 5000, signed: true, length: 4 });
    const signed = new Map(c.siteIds.map((id, i) => [id, Int32Array.of(-5000, 5000, i - 3, -i)]));
    const inputs = new Map([...signed].map(([id, v]) => [id, encodeSigned(v, 16)]));
    const { outcome } = simulateRound(c, inputs, { random: seededRandom(6) });
    expect(outcome.status === 'done' && Array.from(decodeSigned(outcome.sum, 16))).toEqual([
      -30000, 30000, -3, -15,
    ]);
    expect(() => validateConfig({ ...c, maxInput: 5462 })).toThrow("'maxInput' too large");
  });

  it('recovers the exact sum of the survivors for every dropout pattern at every stage (n = 4, t = 2)', () => {
    const c = config(4, { threshold: 2, length: 2 });
    const inputs = randomInputs(c, 4);
    const identities = makeIdentities(c.siteIds, seededRandom(0));
    const options: (DropStage | undefined)[] = [undefined, ...STAGES];
    let done = 0;
    for (let code = 0; code < options.length ** 4; code++) {
      const drops = new Map<number, DropStage>();
      c.siteIds.forEach((id, i) => {
        const d = options[Math.floor(code / options.length ** i) % options.length];
        if (d) drops.set(id, d);
      });
      const { outcome, coordinator } = simulateRound(c, inputs, {
        drops,
        random: seededRandom(code),
        identities,
      });
      const survivors = expectedSurvivors(c, drops, coordinator.state.graphSeed);
      if (survivors) {
        done++;
        expect(outcome).toEqual({ status: 'done', sum: plainSum(c, inputs, survivors), survivors });
      } else {
        expect(outcome.status).toBe('abandoned');
        expect(coordinator.state.result).toBeNull();
        expect(coordinator.state.reason).toMatch(/threshold|fewer than|no surviving neighbour/);
      }
    }
    // No drop (1), or one site gone before its keys, shares, input, signature or unmask (4 x 5):
    // with n = 4 the consistency quorum is 3, and two drops leave too few holders or signers.
    expect(done).toBe(21);
  });

  it('recovers the sum under random dropout patterns with neighbourhoods (n = 12, k = 4, t = 3)', () => {
    const c = config(12, { neighbours: 4, threshold: 3, length: 2 });
    const inputs = randomInputs(c, 12);
    const identities = makeIdentities(c.siteIds, seededRandom(0));
    const random = seededRandom(99);
    let done = 0;
    for (let trial = 0; trial < 60; trial++) {
      const bytes = random.fill(new Uint8Array(c.siteIds.length));
      const drops = new Map<number, DropStage>();
      // Each site drops with probability 1/4, at a uniformly chosen stage.
      c.siteIds.forEach((id, i) =>
        (bytes[i] as number) < 64 ? drops.set(id, STAGES[(bytes[i] as number) % STAGES.length]!) : 0,
      );
      const { outcome, coordinator } = simulateRound(c, inputs, {
        drops,
        random: seededRandom(trial),
        identities,
      });
      const survivors = expectedSurvivors(c, drops, coordinator.state.graphSeed);
      if (survivors) {
        done++;
        expect(outcome).toEqual({ status: 'done', sum: plainSum(c, inputs, survivors), survivors });
      } else {
        expect(outcome.status).toBe('abandoned');
      }
    }
    expect(done).toBeGreaterThan(10);
  });

  it('abandons below t and says why, revealing nothing', () => {
    const c = config(5, { threshold: 3 });
    const inputs = randomInputs(c, 5);
    const drops = new Map<number, DropStage>([
      [c.siteIds[0]!, 'input'],
      [c.siteIds[1]!, 'input'],
      [c.siteIds[2]!, 'shares'],
    ]);
    const { outcome, coordinator, sites } = simulateRound(c, inputs, { drops, random: seededRandom(1) });
    expect(outcome).toEqual({
      status: 'abandoned',
      reason: 'only 2 sites sent masked inputs; threshold is 3',
    });
    expect(coordinator.state).toMatchObject({ stage: 'abandoned', result: null, maskedSum: null });
    for (const site of sites.values()) expect(Object.keys(site.state.revealed)).toHaveLength(0);
  });
});
