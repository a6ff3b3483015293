import * as path from 'node:path';
import { type Dataset, loadCsv, selectSamples } from '@fedistill/data';
import { partition } from './partition';
import { distillStudent, type StudentOptions, studentProbabilities } from './student';
import { selfTrain } from './self-training';

const DATA = path.join(__dirname, '..', '..', '..', 'data', 'breast_cancer.csv');

describe(selfTrain.name, () => {
  let reference: Dataset;
  const options: StudentOptions = {
    hidden: [8],
    classes: 2,
    temperature: 1,
    epochs: 20,
    batchSize: 8,
    seed: 2,
    threads: 1,
  };

  beforeAll(async () => {
    const all = (await loadCsv(DATA, { skipLines: 1, header: false, label: -1, classes: 2 })).dataset;
    reference = selectSamples(all, partition(all.labels, 4, { kind: 'iid' }, 5)[0]!);
  });

  it('adds exactly the unlabelled inputs the student is confident about, then retrains', async () => {
    const labelled = Array.from({ length: 16 }, (_, i) => i);
    const targets = new Float32Array(32);
    labelled.forEach((r, i) => (targets[i * 2 + (reference.labels[r] as number)] = 1));
    const student = await distillStudent(
      reference,
      labelled,
      { probs: targets, answered: labelled.map((_, i) => i) },
      options,
    );
    const rest = Array.from({ length: reference.count - 16 }, (_, i) => i + 16);
    const probs = await studentProbabilities(student, selectSamples(reference, rest));
    const confident = rest.filter((_, i) => Math.max(probs[2 * i]!, probs[2 * i + 1]!) >= 0.9).length;
    expect(confident).toBeGreaterThan(0);

    const sut = await selfTrain(student, reference, labelled, targets, 0.9, options);
    expect(sut.pseudoLabelled).toBe(confident);
    expect(Buffer.from(sut.student.model).equals(Buffer.from(student.model))).toBe(false);
  }, 30_000);

  it('keeps the student when nothing is confident enough, and refuses a threshold outside (0, 1)', async () => {
    const labelled = Array.from({ length: reference.count - 5 }, (_, i) => i);
    const targets = new Float32Array(labelled.length * 2).fill(0.5);
    const student = await distillStudent(
      reference,
      labelled,
      { probs: targets, answered: labelled.map((_, i) => i) },
      options,
    );
    // Trained towards 0.5/0.5 everywhere, the student is sure of nothing.
    const sut = await selfTrain(student, reference, labelled, targets, 0.9, options);
    expect(sut.pseudoLabelled).toBe(0);
    expect(sut.student).toBe(student);
    await expect(selfTrain(student, reference, labelled, targets, 1, options)).rejects.toThrow("'threshold'");
  });
});
