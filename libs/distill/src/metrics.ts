/**
 * Evaluation metrics of a classifier from its predicted class probabilities.
 * `probs` is row-major [n, classes]; `labels` holds the true class of each row.
 */
export interface ClassificationMetrics {
  readonly n: number;
  readonly accuracy: number;
  /** Unweighted mean over classes of F1 (a class with no true and no predicted rows counts 0). */
  readonly macroF1: number;
  /** Expected calibration error with equal-width confidence bins (Guo et al. 2017, arXiv:1706.04599, eq. 3). */
  readonly ece: number;
  /** Area under the ROC curve for binary tasks (class 1 as positive); null otherwise. */
  readonly auroc: number | null;
}

function checkShapes(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): void {
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError("'classes' must be an integer >= 2");
  if (probs.length !== labels.length * classes) {
    throw new RangeError(
      `'probs' has ${probs.length} values; expected ${labels.length} rows x ${classes} classes`,
    );
  }
  if (labels.length === 0) throw new RangeError('no rows to evaluate');
}

/** Softmax of each row of row-major [rows, classes] scores at `temperature` (max-subtracted for stability). */
export function softmaxRows(scores: ArrayLike<number>, classes: number, temperature = 1): Float32Array {
  if (!(temperature > 0)) throw new RangeError("'temperature' must be > 0");
  const out = new Float32Array(scores.length);
  for (let r = 0; r < scores.length / classes; r += 1) {
    let max = -Infinity;
    for (let c = 0; c < classes; c += 1)
      max = Math.max(max, (scores[r * classes + c] as number) / temperature);
    let z = 0;
    for (let c = 0; c < classes; c += 1)
      z += Math.exp((scores[r * classes + c] as number) / temperature - max);
    for (let c = 0; c < classes; c += 1)
      out[r * classes + c] = Math.exp((scores[r * classes + c] as number) / temperature - max) / z;
  }
  return out;
}

/** argmax of each row (the first maximum on ties). */
export function argmaxRows(probs: ArrayLike<number>, classes: number): Int32Array {
  const n = probs.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    let best = 0;
    for (let c = 1; c < classes; c += 1)
      if ((probs[i * classes + c] as number) > (probs[i * classes + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

function macroF1(pred: Int32Array, labels: ArrayLike<number>, classes: number): number {
  let total = 0;
  for (let c = 0; c < classes; c += 1) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < pred.length; i += 1) {
      const p = pred[i] === c;
      const t = labels[i] === c;
      if (p && t) tp += 1;
      else if (p) fp += 1;
      else if (t) fn += 1;
    }
    total += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return total / classes;
}

/** ECE over `bins` equal-width bins of the top-class confidence. */
export function expectedCalibrationError(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  bins = 15,
): number {
  checkShapes(probs, labels, classes);
  const pred = argmaxRows(probs, classes);
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const correct = new Float64Array(bins);
  for (let i = 0; i < labels.length; i += 1) {
    const p = probs[i * classes + (pred[i] as number)] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(p * bins) - 1));
    count[b] = (count[b] ?? 0) + 1;
    conf[b] = (conf[b] ?? 0) + p;
    correct[b] = (correct[b] ?? 0) + (pred[i] === labels[i] ? 1 : 0);
  }
  let ece = 0;
  for (let b = 0; b < bins; b += 1) {
    const nb = count[b] ?? 0;
    if (nb > 0) ece += (nb / labels.length) * Math.abs((correct[b] ?? 0) / nb - (conf[b] ?? 0) / nb);
  }
  return ece;
}

/** AUROC by the Mann-Whitney U statistic, ties counted half. */
export function auroc(scores: ArrayLike<number>, positives: ArrayLike<boolean>): number {
  const items = Array.from({ length: scores.length }, (_, i) => ({
    s: scores[i] as number,
    pos: positives[i] as boolean,
  }));
  const nPos = items.filter((x) => x.pos).length;
  const nNeg = items.length - nPos;
  if (nPos === 0 || nNeg === 0)
    throw new RangeError('AUROC needs at least one positive and one negative row');
  items.sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < items.length;) {
    let j = i;
    while (j < items.length && items[j]?.s === items[i]?.s) j += 1;
    const midRank = (i + 1 + j) / 2; // 1-based average rank of the tied run
    for (let k = i; k < j; k += 1) if (items[k]?.pos) rankSum += midRank;
    i = j;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** All metrics at once. */
export function classificationMetrics(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): ClassificationMetrics {
  checkShapes(probs, labels, classes);
  const pred = argmaxRows(probs, classes);
  let hits = 0;
  for (let i = 0; i < pred.length; i += 1) if (pred[i] === labels[i]) hits += 1;
  let auc: number | null = null;
  if (classes === 2) {
    const positives = Array.from({ length: labels.length }, (_, i) => labels[i] === 1);
    const both = positives.some(Boolean) && positives.some((p) => !p);
    auc = both
      ? auroc(
          Array.from({ length: labels.length }, (_, i) => probs[i * 2 + 1] as number),
          positives,
        )
      : null;
  }
  return {
    n: labels.length,
    accuracy: hits / labels.length,
    macroF1: macroF1(pred, labels, classes),
    ece: expectedCalibrationError(probs, labels, classes),
    auroc: auc,
  };
}
