import { quantize, type RandomSource } from '@fedistill/dp';

/**
 * A site's summary for one round: for each query, the sum over the site's teachers of either
 * clipped soft-label vectors or one-hot votes. Teachers see disjoint partitions of the site's
 * records (PATE, Papernot et al. 2017, arXiv:1610.05755, §2), so one record changes one
 * teacher's contribution; clipping bounds how much.
 *
 * `teacherProbs[t]` is teacher t's row-major [queries, classes] probabilities.
 */
export interface SummaryOptions {
  readonly queries: number;
  readonly classes: number;
  /** L2 clip of one teacher's soft-label vector for one query (soft labels only), > 0. */
  readonly clipNorm?: number;
}

function checkTeachers(teacherProbs: readonly Float32Array[], o: SummaryOptions): void {
  if (teacherProbs.length === 0) throw new RangeError("'teacherProbs' must hold at least one teacher");
  for (const [t, p] of teacherProbs.entries()) {
    if (p.length !== o.queries * o.classes) {
      throw new RangeError(
        `teacher ${t} gave ${p.length} values; expected ${o.queries} queries x ${o.classes} classes`,
      );
    }
  }
}

/** One teacher's soft labels with each query's vector clipped to L2 norm `clip`, as float64. */
export function clippedSoftLabels(
  probs: Float32Array,
  queries: number,
  classes: number,
  clip: number,
): Float64Array {
  if (!(clip > 0)) throw new RangeError("'clipNorm' must be > 0");
  const out = new Float64Array(queries * classes);
  for (let q = 0; q < queries; q += 1) {
    let sq = 0;
    for (let c = 0; c < classes; c += 1) sq += (probs[q * classes + c] as number) ** 2;
    const factor = Math.sqrt(sq) > clip ? clip / Math.sqrt(sq) : 1;
    for (let c = 0; c < classes; c += 1) out[q * classes + c] = (probs[q * classes + c] as number) * factor;
  }
  return out;
}

/**
 * One teacher's one-hot votes (argmax per query, first maximum on ties). An all-zero row is a
 * teacher that abstains on that query (abstention.ts): it votes for no class.
 */
export function oneHotVotes(probs: Float32Array, queries: number, classes: number): Int32Array {
  const out = new Int32Array(queries * classes);
  for (let q = 0; q < queries; q += 1) {
    let best = 0;
    for (let c = 1; c < classes; c += 1)
      if ((probs[q * classes + c] as number) > (probs[q * classes + best] as number)) best = c;
    if ((probs[q * classes + best] as number) > 0) out[q * classes + best] = 1;
  }
  return out;
}

/** Real-valued soft-label summary: the sum over teachers of clipped soft labels. */
export function softLabelSummary(teacherProbs: readonly Float32Array[], o: SummaryOptions): Float64Array {
  checkTeachers(teacherProbs, o);
  const sum = new Float64Array(o.queries * o.classes);
  for (const p of teacherProbs) {
    const v = clippedSoftLabels(p, o.queries, o.classes, o.clipNorm ?? 1);
    for (let i = 0; i < sum.length; i += 1) sum[i] = (sum[i] as number) + (v[i] as number);
  }
  return sum;
}

/** Vote summary: per query, how many teachers chose each class. */
export function voteSummary(teacherProbs: readonly Float32Array[], o: SummaryOptions): Int32Array {
  checkTeachers(teacherProbs, o);
  const sum = new Int32Array(o.queries * o.classes);
  for (const p of teacherProbs) {
    const v = oneHotVotes(p, o.queries, o.classes);
    for (let i = 0; i < sum.length; i += 1) sum[i] = (sum[i] as number) + (v[i] as number);
  }
  return sum;
}

/**
 * Integer soft-label summary for secure aggregation: each teacher's clipped vector is quantized
 * on its own with the privacy layer's conditional randomized rounding (Kairouz, Liu, Steinke
 * 2021, arXiv:2102.06387, §4), so one teacher's integer contribution has a known L2 bound
 * (`roundedNormBound(clipNorm * sqrt(queries), granularity, queries * classes)`); the integers
 * are then summed. One integer unit is `granularity` probability units.
 */
export function quantizedSoftLabelSummary(
  teacherProbs: readonly Float32Array[],
  o: SummaryOptions & { readonly granularity: number },
  random?: RandomSource,
): Int32Array {
  checkTeachers(teacherProbs, o);
  const clip = (o.clipNorm ?? 1) * Math.sqrt(o.queries);
  const sum = new Int32Array(o.queries * o.classes);
  const scratch = new Int32Array(o.queries * o.classes);
  for (const p of teacherProbs) {
    const v = clippedSoftLabels(p, o.queries, o.classes, o.clipNorm ?? 1);
    quantize(v, { clip, granularity: o.granularity }, random, scratch);
    for (let i = 0; i < sum.length; i += 1) sum[i] = (sum[i] as number) + (scratch[i] as number);
  }
  return sum;
}
