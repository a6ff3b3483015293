import { type Dataset, featureSize } from '@fedistill/data';

/** How a site's teachers abstain on queries unlike their own partition (node.yaml teachers.abstain). */
export interface AbstentionOptions {
  /**
   * The share of the public reference inputs each teacher answers, in (0, 1]: the ones nearest
   * its own partition. Absent: the share of the classes its partition holds (a teacher whose
   * records hold 3 of 10 digits answers the nearest 30%), so a teacher that saw every class
   * answers everything.
   */
  readonly fraction?: number;
}

/**
 * Teachers that abstain (send a zero vector, no vote) on a query unlike their own partition.
 * Under label skew a site's teachers vote confidently for the classes they know on every query,
 * also on the classes they never saw; abstaining leaves those votes to the sites that saw them.
 *
 * The gate of teacher t is a nearest-neighbour test in the teacher's input space (raw inputs,
 * or the federation's features): the query's Euclidean distance to the nearest record of
 * partition t must be at most c_t, where c_t is the `fraction`-quantile of the same distance over
 * the PUBLIC reference inputs. So the gate depends on partition t and public data only, and
 * replacing one record changes teacher t's gate and answers and no other teacher's: the PATE
 * argument (Papernot et al. 2017, arXiv:1610.05755, §2.1) and the sensitivities the release
 * charges (release.ts: one teacher's votes, Δ2 = sqrt(2q); its clipped soft labels, 2B) hold
 * unchanged, since a teacher's contribution per query is still a one-hot vote or a clipped
 * vector, or now zero, which is inside the same bound. Abstention therefore costs no privacy.
 * (The same idea, a teacher answering only near its own data, is Private-kNN's, Zhu et al.,
 * CVPR 2020; here it gates the PATE teachers.)
 */
export class AbstentionGates {
  private constructor(
    private readonly parts: readonly Dataset[],
    /** c_t, per teacher. */
    readonly cutoffs: Float64Array,
  ) {}

  /**
   * Fits one gate per teacher: `parts[t]` is teacher t's partition in its input space (before its
   * own standardizer), `reference` the `n` public reference inputs (row-major) in the same space.
   */
  static fit(
    parts: readonly Dataset[],
    reference: Float32Array,
    n: number,
    o: AbstentionOptions = {},
  ): AbstentionGates {
    if (parts.length === 0) throw new RangeError("'parts' must hold at least one teacher's partition");
    if (o.fraction !== undefined && !(o.fraction > 0 && o.fraction <= 1))
      throw new RangeError("'fraction' must be in (0, 1]");
    const per = featureSize(parts[0] as Dataset);
    checkRows(reference, n, per, 'reference');
    if (n < 1) throw new RangeError("'reference' must hold at least one input");
    const cutoffs = new Float64Array(parts.length);
    for (const [t, part] of parts.entries()) {
      if (part.count < 1) throw new RangeError(`teacher ${t}'s partition is empty`);
      if (featureSize(part) !== per)
        throw new RangeError(`teacher ${t}'s records have ${featureSize(part)} values; expected ${per}`);
      const share = o.fraction ?? new Set(part.labels).size / part.numClasses;
      const sorted = nearestDistances(part, reference, n).sort();
      // The nearest ceil(share x n) inputs (less a rounding hair: 0.3 x 80 is 24.000000000000004).
      const m = Math.min(n, Math.max(1, Math.ceil(share * n - 1e-9)));
      cutoffs[t] = sorted[m - 1] as number;
    }
    return new AbstentionGates(parts, cutoffs);
  }

  get teachers(): number {
    return this.parts.length;
  }

  /** Per teacher, per query of the `n` inputs `x`: 1 when the teacher answers, 0 when it abstains. */
  answers(x: Float32Array, n: number): Uint8Array[] {
    const per = featureSize(this.parts[0] as Dataset);
    checkRows(x, n, per, 'x');
    return this.parts.map((part, t) => {
      const d = nearestDistances(part, x, n);
      const c = this.cutoffs[t] as number;
      return Uint8Array.from(d, (v) => (v <= c ? 1 : 0));
    });
  }

  /**
   * The teachers' outputs with every abstaining row set to zero: `probs[t]` is teacher t's
   * row-major [n, classes]. A zero row is no vote (summaries.ts oneHotVotes) and a zero
   * soft-label vector. Returns the gated outputs and how many (teacher, query) answers were cast
   * and withheld: an aggregate over all queries and teachers the site may log locally.
   */
  apply(
    probs: readonly Float32Array[],
    x: Float32Array,
    n: number,
  ): { probs: Float32Array[]; cast: number; abstained: number } {
    if (probs.length !== this.parts.length)
      throw new RangeError(`${probs.length} teachers' outputs for ${this.parts.length} gates`);
    const answers = this.answers(x, n);
    let cast = 0;
    const gated = probs.map((p, t) => {
      if (n > 0 ? p.length % n !== 0 : p.length !== 0)
        throw new RangeError(`teacher ${t} gave ${p.length} values for ${n} queries`);
      const k = n === 0 ? 0 : p.length / n;
      const out = Float32Array.from(p);
      const a = answers[t] as Uint8Array;
      for (let q = 0; q < n; q += 1) {
        if (a[q] === 1) cast += 1;
        else out.fill(0, q * k, (q + 1) * k);
      }
      return out;
    });
    return { probs: gated, cast, abstained: probs.length * n - cast };
  }
}

function checkRows(x: Float32Array, n: number, per: number, name: string): void {
  if (!Number.isInteger(n) || n < 0 || x.length !== n * per)
    throw new RangeError(`'${name}' must hold ${n} inputs of ${per} values, not ${x.length} values`);
}

/** For each of the `n` rows of `x`, the Euclidean distance to the nearest record of `part`. */
export function nearestDistances(part: Dataset, x: Float32Array, n: number): Float64Array {
  const per = featureSize(part);
  const r = part.features;
  const out = new Float64Array(n);
  for (let q = 0; q < n; q += 1) {
    let best = Infinity;
    const qo = q * per;
    for (let i = 0; i < part.count; i += 1) {
      const ro = i * per;
      let s = 0;
      for (let j = 0; j < per && s < best; j += 1) {
        const d = (x[qo + j] as number) - (r[ro + j] as number);
        s += d * d;
      }
      if (s < best) best = s;
    }
    out[q] = Math.sqrt(best);
  }
  return out;
}
