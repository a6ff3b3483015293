// Over 350 lines on purpose: the class-sum release's tests in one place (the map, the adversary
// searching neighbouring data sets for a change above the claimed sensitivity, the refusals, and
// the ridge against an independent solve), sharing their samplers and seeded sources.
import { type RandomSource, roundedNormBound, seededRandom } from '@fedistill/dp';
import {
  CLASS_SUM_BIAS,
  classSumFeatures,
  classSumSizes,
  classSumTargets,
  type ClassSumTerms,
  siteClassSums,
} from './class-sums';
import { planRelease, type ReleaseSpec, siteClassSumRelease } from './release';

/** A deterministic stream of doubles in [0, 1) from the project's seeded source (no Math.random). */
function uniforms(seed: number): () => number {
  const random = seededRandom(seed, 'class-sums-spec');
  const words = new Uint32Array(1024);
  let at = words.length;
  return () => {
    if (at === words.length) {
      random.fill(new Uint8Array(words.buffer));
      at = 0;
    }
    return (words[at++] as number) / 2 ** 32;
  };
}

/** Standard normal draws (Box-Muller) from a uniform stream. */
function normals(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

const l2norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const l1norm = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + Math.abs(x), 0);

describe(classSumFeatures.name, () => {
  it('maps every row, random, huge, tiny or zero, to norm <= 1 with the constant sqrt(0.1) last', () => {
    const u = uniforms(1);
    const gauss = normals(u);
    const size = 7;
    const specials = [
      new Array<number>(size).fill(0),
      new Array<number>(size).fill(3e38), // near the float32 maximum: the squares overflow float32, not float64
      new Array<number>(size).fill(-3e38),
      [1e-45, 0, 0, 0, 0, 0, 0], // the smallest float32 subnormal
      [0, 0, 0, 0, 0, 0, -1e-40],
      [1e30, -1e-30, 0, 5, 0, 0, 1],
    ];
    const count = 400 + specials.length;
    const features = new Float32Array(count * size);
    specials.forEach((row, r) => features.set(row, r * size));
    for (let i = specials.length * size; i < features.length; i += 1)
      features[i] = gauss() * 10 ** Math.floor(u() * 20 - 10);
    const sut = classSumFeatures(features, count, size);
    expect(sut).toHaveLength(count * (size + 1));
    for (let r = 0; r < count; r += 1) {
      const row = sut.subarray(r * (size + 1), (r + 1) * (size + 1));
      const input = features.subarray(r * size, (r + 1) * size);
      expect(row.every(Number.isFinite)).toBe(true);
      expect(row[size]).toBe(CLASS_SUM_BIAS);
      const zero = input.every((v) => v === 0);
      // The squared norm is 0.9 + 0.1 up to rounding error (or 0.1 for a zero row).
      expect(l2norm(row)).toBeLessThanOrEqual(1 + 1e-12);
      expect(l2norm(row)).toBeCloseTo(zero ? CLASS_SUM_BIAS : 1, 12);
      // The direction is the input's: phi_j / f_j is one positive constant where f_j != 0.
      if (!zero) {
        const j = input.findIndex((v) => v !== 0);
        const ratio = (row[j] as number) / (input[j] as number);
        expect(ratio).toBeGreaterThan(0);
        input.forEach((v, i) => expect(row[i]).toBeCloseTo(v * ratio, 12));
      }
    }
    expect([...sut.subarray(0, size + 1)]).toEqual([...new Array<number>(size).fill(0), CLASS_SUM_BIAS]);
  });

  it('refuses a feature that is not finite, naming the row, and a length that is not rows x size', () => {
    const features = new Float32Array(4 * 3).fill(1);
    features[2 * 3 + 1] = NaN;
    expect(() => classSumFeatures(features, 4, 3)).toThrow('row 2 has a feature that is not finite');
    features[2 * 3 + 1] = 0;
    features[3 * 3 + 2] = -Infinity;
    expect(() => classSumFeatures(features, 4, 3)).toThrow('row 3 has a feature that is not finite');
    expect(() => classSumFeatures(new Float32Array(11), 4, 3)).toThrow('11 feature values for 4 rows of 3');
    expect(() => classSumFeatures(new Float32Array(12), 3, 3)).toThrow('12 feature values for 3 rows of 3');
    expect(() => classSumFeatures(new Float32Array(0), 0, 0)).toThrow("'size' must be an integer >= 1");
  });
});

/** A random source that counts the bytes it gives. */
function counting(inner: RandomSource): RandomSource & { bytes: number } {
  const source = {
    bytes: 0,
    fill(out: Uint8Array): Uint8Array {
      source.bytes += out.length;
      return inner.fill(out);
    },
  };
  return source;
}

/** `first`'s stream for its first `at` bytes, then `then`'s (a fill must not straddle `at`). */
function spliced(first: RandomSource, at: number, then: RandomSource): RandomSource {
  let used = 0;
  return {
    fill(out: Uint8Array): Uint8Array {
      if (used >= at) return then.fill(out);
      if (used + out.length > at) throw new Error('a fill straddles the splice');
      used += out.length;
      return first.fill(out);
    },
  };
}

interface Record {
  readonly phi: Float64Array;
  readonly label: number;
}

/**
 * The adversary's neighbouring pair: the same `prefix` records, then `a` in one dataset and `b`
 * in the other (one record replaced; the last, so the prefix consumes the same randomness and is
 * rounded identically in both). The replaced record is rounded with `seedA`'s stream in one
 * dataset and `seedB`'s in the other: equal seeds share the rounding randomness, different
 * seeds let the adversary pick each rounding on its own. Returns S(D) - S(D') without noise.
 */
function neighbourDifference(
  prefix: readonly Record[],
  a: Record,
  b: Record,
  t: ClassSumTerms,
  seed: number,
  seedA: number,
  seedB: number,
): Int32Array {
  const width = t.features + 1;
  const concat = (last: Record) => {
    const phi = new Float64Array((prefix.length + 1) * width);
    prefix.forEach((r, i) => phi.set(r.phi, i * width));
    phi.set(last.phi, prefix.length * width);
    return { phi, labels: [...prefix.map((r) => r.label), last.label] };
  };
  const before = counting(seededRandom(seed));
  const common = concat(a);
  const prefixSum = siteClassSums(
    common.phi.subarray(0, prefix.length * width),
    common.labels.slice(0, -1),
    t,
    null,
    before,
  );
  const run = (last: Record, s: number) => {
    const { phi, labels } = concat(last);
    return siteClassSums(phi, labels, t, null, spliced(seededRandom(seed), before.bytes, seededRandom(s)));
  };
  const sa = run(a, seedA);
  const sb = run(b, seedB);
  // The coupling worked: each dataset is the common prefix sum plus one record in its own class.
  // (A plain loop, not one expect per entry: this runs some 20,000 times.)
  for (const [sum, last] of [
    [sa, a],
    [sb, b],
  ] as const)
    for (let i = 0; i < sum.length; i += 1)
      if (Math.floor(i / width) !== last.label && sum[i] !== prefixSum[i])
        throw new Error(`entry ${i} outside class ${last.label} differs from the common prefix's`);
  return sa.map((v, i) => v - (sb[i] as number));
}

describe('the class-sum sensitivity claim, attacked', () => {
  it('no neighbouring pair found moves the sum by more than plan.l2 (L2) or plan.l1 (L1)', () => {
    const u = uniforms(2);
    const gauss = normals(u);
    const classes = 3;
    const checked: string[] = [];
    for (const features of [1, 3, 8]) {
      for (const granularity of [1, 0.5, 0.3, 0.1, 0.01]) {
        const t: ClassSumTerms = { classes, features, granularity, maxRecords: 16 };
        const spec: ReleaseSpec = {
          summary: 'class-sums',
          queries: 0,
          classes,
          clipNorm: 1,
          granularity,
          maxTeachers: 1,
          features,
          maxRecords: 16,
          noise: null,
        };
        const plan = planRelease(spec);
        expect(plan).toMatchObject(classSumSizes(t));
        // The claim itself, from its definition: 2 x the rounded norm bound of one phi row.
        expect(plan.l2).toBe(2 * roundedNormBound(1, granularity, features + 1));
        const width = features + 1;
        const fromFeatures = (f: number[]) => classSumFeatures(Float32Array.from(f), 1, features);
        const raw = (v: number[]) => Float64Array.from(v);
        const unit = (j: number, sign = 1) =>
          fromFeatures(Array.from({ length: features }, (_, i) => (i === j ? sign : 0)));
        const diagonal = (sign: number) => fromFeatures(new Array<number>(features).fill(sign));
        const random = () => fromFeatures(Array.from({ length: features }, gauss));
        // Entries whose scaled value has fractional part 1/2: the roundings vary the most.
        const halfway = raw([...new Array<number>(features).fill(granularity / 2), granularity / 2]);
        const pairs: [Record, Record][] = [
          [
            { phi: diagonal(1), label: 0 },
            { phi: diagonal(-1), label: 0 },
          ],
          [
            { phi: unit(0), label: 1 },
            { phi: unit(0, -1), label: 1 },
          ],
          [
            { phi: diagonal(1), label: 0 },
            { phi: diagonal(1), label: 2 },
          ],
          [
            { phi: diagonal(1), label: 0 },
            { phi: diagonal(-1), label: 1 },
          ],
          [
            { phi: fromFeatures(new Array<number>(features).fill(1e-30)), label: 0 },
            { phi: diagonal(-1), label: 0 },
          ],
          [
            { phi: fromFeatures(new Array<number>(features).fill(0)), label: 0 },
            { phi: diagonal(1), label: 1 },
          ],
          [
            { phi: halfway, label: 0 },
            { phi: halfway.map((v) => -v), label: 0 },
          ],
          // Rows not made by classSumFeatures: norm 5 and the sign flipped; the rounding clips them to 1.
          [
            { phi: raw(new Array<number>(width).fill(5 / Math.sqrt(width))), label: 2 },
            { phi: raw(new Array<number>(width).fill(-5 / Math.sqrt(width))), label: 2 },
          ],
          [
            { phi: raw(new Array<number>(width).fill(1e6)), label: 0 },
            { phi: raw(new Array<number>(width).fill(1e6)), label: 1 },
          ],
        ];
        let worst = 0;
        let worstL1 = 0;
        const attack = (a: Record, b: Record, prefix: readonly Record[], seed: number, same: boolean) => {
          const diff = neighbourDifference(prefix, a, b, t, seed, seed + 1, same ? seed + 1 : seed + 2);
          worst = Math.max(worst, l2norm(diff));
          worstL1 = Math.max(worstL1, l1norm(diff));
        };
        const prefixOf = (n: number): Record[] =>
          Array.from({ length: n }, () => ({ phi: random(), label: Math.floor(u() * classes) }));
        let seed = 1000 * features + Math.round(100 * granularity);
        for (const [a, b] of pairs)
          for (let trial = 0; trial < 60; trial += 1) {
            const prefix = prefixOf(trial % 4);
            attack(a, b, prefix, (seed += 3), true);
            attack(a, b, prefix, (seed += 3), false);
          }
        // Random records and labels on both sides.
        for (let trial = 0; trial < 150; trial += 1) {
          const a = { phi: random(), label: Math.floor(u() * classes) };
          const b = { phi: u() < 0.3 ? a.phi : random(), label: Math.floor(u() * classes) };
          attack(a, b, prefixOf(3), (seed += 3), trial % 2 === 0);
        }
        expect(worst).toBeLessThanOrEqual(plan.l2);
        expect(worstL1).toBeLessThanOrEqual(plan.l1);
        // The adversary is not toothless: it gets most of the way to the bound (0.79 to 1.0 of
        // it when written; 1.0 with 3 features at granularity 1, by rows the rounding clips).
        expect(worst).toBeGreaterThan(0.75 * plan.l2);
        checked.push(`${features}/${granularity}: ${(worst / plan.l2).toFixed(3)}`);
      }
    }
    expect(checked).toHaveLength(15);
  });
});

describe(siteClassSums.name, () => {
  const t: ClassSumTerms = { classes: 3, features: 2, granularity: 0.1, maxRecords: 4 };

  it('adds each record’s rounded phi to its class block (exact when phi is on the grid)', () => {
    const phi = Float64Array.from([0.5, -0.3, 0.2, 0.1, 0.1, 0.3, 0, 0, 0.4]);
    const sut = siteClassSums(phi, [2, 0, 2], t, null, seededRandom(3));
    expect([...sut]).toEqual([1, 1, 3, 0, 0, 0, 5, -3, 6]);
  });

  it('refuses more records than maxRecords and a label outside the classes, naming them', () => {
    const phi = (n: number) => new Float64Array(n * 3);
    expect(() => siteClassSums(phi(5), [0, 1, 2, 0, 1], t, null, seededRandom(1))).toThrow(
      'the site has 5 records; the round counts at most 4',
    );
    for (const bad of [3, -1, 1.5, NaN])
      expect(() => siteClassSums(phi(2), [0, bad], t, null, seededRandom(1))).toThrow(
        `label ${bad} is not a class in [0, 3)`,
      );
    expect(() => siteClassSums(phi(2), [0], t, null, seededRandom(1))).toThrow(
      'phi has 6 values for 1 records',
    );
  });

  it('is what siteClassSumRelease releases, the noise share included', () => {
    const spec: ReleaseSpec = {
      summary: 'class-sums',
      queries: 0,
      classes: 3,
      clipNorm: 1,
      granularity: 0.1,
      maxTeachers: 1,
      features: 2,
      maxRecords: 4,
      noise: { kind: 'skellam', noiseMultiplier: 1, sites: 3, toleratedDropouts: 0 },
    };
    const plan = planRelease(spec);
    const phi = classSumFeatures(Float32Array.from([1, 2, -3, 0.5]), 2, 2);
    const released = siteClassSumRelease(phi, [1, 2], spec, plan, seededRandom(9));
    expect([...released]).toEqual([...siteClassSums(phi, [1, 2], t, plan.noise, seededRandom(9))]);
    expect([...released]).not.toEqual([...siteClassSums(phi, [1, 2], t, null, seededRandom(9))]);
    expect(() =>
      siteClassSumRelease(phi, [1, 2], { ...spec, summary: 'votes' }, plan, seededRandom(9)),
    ).toThrow("a 'votes' release has no class sums");
  });
});

/**
 * The ridge classifier classSumTargets documents, computed independently: M = (records / rows)
 * Σ phi phi^T over the reference rows, records = max(rows, noisy count), λ = 1e-2 trace(M) /
 * (features + 1), theta_c = (M + λI)^-1 (γ S_c), solved by Gaussian elimination with partial
 * pivoting; returns the scores phi(row) theta of every reference row and `records`.
 */
function directScores(
  sum: ArrayLike<number>,
  t: { classes: number; features: number; granularity: number },
  reference: Float64Array,
): { scores: number[][]; records: number } {
  const w = t.features + 1;
  const rows = reference.length / w;
  let counted = 0;
  for (let c = 0; c < t.classes; c += 1)
    counted += ((sum[c * w + w - 1] as number) * t.granularity) / Math.sqrt(0.1);
  const records = Math.max(rows, counted);
  const m: number[][] = Array.from({ length: w }, () => new Array<number>(w).fill(0));
  for (let r = 0; r < rows; r += 1)
    for (let i = 0; i < w; i += 1)
      for (let j = 0; j < w; j += 1)
        (m[i] as number[])[j]! +=
          ((reference[r * w + i] as number) * (reference[r * w + j] as number) * records) / rows;
  let trace = 0;
  for (let i = 0; i < w; i += 1) trace += (m[i] as number[])[i] as number;
  for (let i = 0; i < w; i += 1) (m[i] as number[])[i]! += (1e-2 * trace) / w;
  const theta: number[][] = [];
  for (let c = 0; c < t.classes; c += 1) {
    const a = m.map((row, i) => [...row, (sum[c * w + i] as number) * t.granularity]);
    for (let col = 0; col < w; col += 1) {
      let pivot = col;
      for (let r = col + 1; r < w; r += 1)
        if (Math.abs((a[r] as number[])[col] as number) > Math.abs((a[pivot] as number[])[col] as number))
          pivot = r;
      [a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]];
      const p = a[col] as number[];
      for (let r = 0; r < w; r += 1) {
        if (r === col) continue;
        const row = a[r] as number[];
        const f = (row[col] as number) / (p[col] as number);
        for (let j = col; j <= w; j += 1) row[j]! -= f * (p[j] as number);
      }
    }
    theta.push(a.map((row, i) => (row[w] as number) / (row[i] as number)));
  }
  const scores = Array.from({ length: rows }, (_, r) =>
    theta.map((th) => th.reduce((s, v, j) => s + v * (reference[r * w + j] as number), 0)),
  );
  return { scores, records };
}

const argmax = (v: readonly number[]) => v.reduce((best, x, i) => (x > (v[best] as number) ? i : best), 0);

/** `count` records of `features` values around class-dependent directions, with their labels. */
function sample(u: () => number, count: number, features: number, classes: number, spread: number) {
  const gauss = normals(u);
  const labels = Array.from({ length: count }, () => Math.floor(u() * classes));
  const x = new Float32Array(count * features);
  labels.forEach((y, r) => {
    for (let j = 0; j < features; j += 1) x[r * features + j] = (j === y ? 3 : 0) + spread * gauss();
  });
  return { labels, phi: classSumFeatures(x, count, features) };
}

describe(classSumTargets.name, () => {
  it('labels every reference row of separable classes correctly from a noiseless release', () => {
    const t: ClassSumTerms = { classes: 3, features: 4, granularity: 0.01, maxRecords: 1000 };
    const u = uniforms(4);
    const site = sample(u, 600, 4, 3, 0.3);
    const sum = siteClassSums(site.phi, site.labels, t, null, seededRandom(5));
    const reference = sample(u, 90, 4, 3, 0.3);
    const sut = classSumTargets(sum, t, reference.phi);
    expect(sut.answered).toEqual(Array.from({ length: 90 }, (_, i) => i));
    expect(sut.probs).toHaveLength(90 * 3);
    const predicted = Array.from({ length: 90 }, (_, r) => argmax([...sut.probs.subarray(r * 3, r * 3 + 3)]));
    expect(predicted).toEqual(reference.labels);
    // Probability rows (softmax of the scores at CLASS_SUM_TEMPERATURE).
    expect([...sut.probs].every((p) => p >= 0 && p <= 1)).toBe(true);
    for (let r = 0; r < 90; r += 1)
      expect(sut.probs[r * 3]! + sut.probs[r * 3 + 1]! + sut.probs[r * 3 + 2]!).toBeCloseTo(1, 5);
    // The noiseless count of records, read from the constant coordinate (up to the rounding).
    expect(sut.records).toBeCloseTo(600, -1);
  });

  it.each([
    ['a noisy sum counting more records than the reference has rows', 400, 1],
    ['a sum counting fewer records than the reference has rows (records = rows)', 5, 0],
  ])('agrees with a direct normal-equation solve: %s', (_name, records, noisy) => {
    const t: ClassSumTerms = { classes: 4, features: 3, granularity: 0.05, maxRecords: 1000 };
    const u = uniforms(6 + records);
    const site = sample(u, records, 3, 4, 2);
    const spec: ReleaseSpec = {
      summary: 'class-sums',
      queries: 0,
      ...t,
      clipNorm: 1,
      maxTeachers: 1,
      noise: { kind: 'discrete-gaussian', noiseMultiplier: 0.5, sites: 2, toleratedDropouts: 0 },
    };
    const noise = noisy ? planRelease(spec).noise : null;
    const sum = siteClassSums(site.phi, site.labels, t, noise, seededRandom(7));
    const reference = sample(u, 60, 3, 4, 2).phi;
    const sut = classSumTargets(sum, t, reference);
    const direct = directScores(sum, t, reference);
    expect(sut.records).toBeCloseTo(direct.records, 9);
    if (records < 60) expect(sut.records).toBe(60);
    let compared = 0;
    direct.scores.forEach((scores, r) => {
      const sorted = [...scores].sort((x, y) => y - x);
      // Skip near ties, where the two solvers' rounding errors could differ in the argmax.
      if ((sorted[0] as number) - (sorted[1] as number) < 1e-9 * Math.abs(sorted[0] as number)) return;
      compared += 1;
      expect(argmax([...sut.probs.subarray(r * 4, r * 4 + 4)])).toBe(argmax(scores));
    });
    expect(compared).toBeGreaterThanOrEqual(58);
    // A problem where the answer is not trivial: more than one class is predicted.
    expect(new Set(direct.scores.map(argmax)).size).toBeGreaterThan(1);
  });

  it('reads only the release and the reference features: deterministic, inputs untouched, lengths checked', () => {
    const t: ClassSumTerms = { classes: 3, features: 4, granularity: 0.01, maxRecords: 1000 };
    const u = uniforms(8);
    const site = sample(u, 200, 4, 3, 1);
    const sum = siteClassSums(site.phi, site.labels, t, null, seededRandom(9));
    const reference = sample(u, 40, 4, 3, 1).phi;
    const sumCopy = Int32Array.from(sum);
    const referenceCopy = Float64Array.from(reference);
    const first = classSumTargets(sum, t, reference);
    expect([...sum]).toEqual([...sumCopy]);
    expect([...reference]).toEqual([...referenceCopy]);
    // The same sum (here as a plain array, or the mean of rounds' sums) and reference: the same targets.
    const again = classSumTargets(Array.from(sum), t, Float64Array.from(reference));
    expect([...again.probs]).toEqual([...first.probs]);
    expect(again.records).toBe(first.records);
    expect(() => classSumTargets(sum.subarray(1), t, reference)).toThrow(
      'the sum has 14 entries; expected 15',
    );
    expect(() => classSumTargets([...sum, 0], t, reference)).toThrow('the sum has 16 entries; expected 15');
    expect(() => classSumTargets(sum, t, reference.subarray(1))).toThrow(
      'the reference features do not match the release',
    );
    expect(() => classSumTargets(sum, t, new Float64Array(0))).toThrow(
      'the reference features do not match the release',
    );
  });
});
