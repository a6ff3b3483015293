import { evaluationWords } from './evaluation-words';

describe(evaluationWords.name, () => {
  it('gives the clamped accuracy, then the interval the noise allows', () => {
    expect(
      evaluationWords({
        studentVersion: 2,
        accuracy: 1,
        records: 18,
        interval: { low: 0.712, high: 1, confidence: 0.95 },
      }),
    ).toBe(
      'accuracy 1.0000 (95% interval 0.71-1.00 for the noise) over about 18 local test records of the sites (noised)',
    );
  });

  it('says "-" without records, and leaves the interval out for a coordinator that sends none', () => {
    expect(
      evaluationWords({
        studentVersion: 1,
        accuracy: null,
        records: 0,
        interval: { low: 0, high: 1, confidence: 0.95 },
      }),
    ).toBe(
      'accuracy - (95% interval 0.00-1.00 for the noise) over about 0 local test records of the sites (noised)',
    );
    expect(evaluationWords({ studentVersion: 1, accuracy: 0.5, records: 40 })).toBe(
      'accuracy 0.5000 over about 40 local test records of the sites (noised)',
    );
  });
});
