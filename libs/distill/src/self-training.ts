import { type Dataset, selectSamples } from '@fedistill/data';
import type { Targets } from './aggregation';
import { type DistilledStudent, distillStudent, type StudentOptions, studentProbabilities } from './student';

/**
 * Semi-supervised use of the reference inputs no private answer labelled: the student labels
 * them itself, the ones it is at least `threshold` sure of join the training set with their
 * one-hot pseudo-label, and a fresh student is distilled on both (self-training, as in the
 * semi-supervised PATE student of Papernot et al. 2017, arXiv:1610.05755, §3.2, in its simplest
 * form). Only the public reference inputs and the already-released targets are used, so this is
 * post-processing: it costs no privacy.
 *
 * `labelled`/`targets`: reference indices with private targets and their [n, classes] rows.
 * Returns the student trained on both, or `student` unchanged when no input is confident enough.
 */
export async function selfTrain(
  student: DistilledStudent,
  reference: Dataset,
  labelled: readonly number[],
  targets: Float32Array,
  threshold: number,
  o: StudentOptions,
): Promise<{ student: DistilledStudent; pseudoLabelled: number }> {
  if (!(threshold > 0 && threshold < 1)) throw new RangeError("'threshold' must be in (0, 1)");
  const known = new Set(labelled);
  const unlabelled = Array.from({ length: reference.count }, (_, i) => i).filter((i) => !known.has(i));
  if (unlabelled.length === 0) return { student, pseudoLabelled: 0 };
  const probs = await studentProbabilities(student, selectSamples(reference, unlabelled), {
    threads: o.threads,
  });
  const k = o.classes;
  const rows: number[] = [];
  const extra: number[] = [];
  unlabelled.forEach((index, i) => {
    let best = 0;
    for (let c = 1; c < k; c += 1)
      if ((probs[i * k + c] as number) > (probs[i * k + best] as number)) best = c;
    if ((probs[i * k + best] as number) < threshold) return;
    rows.push(index);
    for (let c = 0; c < k; c += 1) extra.push(c === best ? 1 : 0);
  });
  if (rows.length === 0) return { student, pseudoLabelled: 0 };
  const all = new Float32Array(targets.length + extra.length);
  all.set(targets);
  all.set(extra, targets.length);
  const queries = [...labelled, ...rows];
  const combined: Targets = { probs: all, answered: queries.map((_, i) => i) };
  return { student: await distillStudent(reference, queries, combined, o), pseudoLabelled: rows.length };
}
