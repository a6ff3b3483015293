import { scheduledLrAt } from '@fedistill/engine';
import { adam } from './learning-rate';

describe(adam.name, () => {
  it('anneals a cosine schedule to zero over every step of the training', () => {
    const o = adam(0.01, 'cosine', 30, 78);
    expect(o).toEqual({ kind: 'adam', lr: 0.01, schedule: { kind: 'cosine', totalSteps: 2_340 } });
    if (!o.schedule) throw new Error('no schedule');
    expect(scheduledLrAt(o.lr, o.schedule, 0)).toBeCloseTo(0.01, 12);
    expect(scheduledLrAt(o.lr, o.schedule, 1_170)).toBeCloseTo(0.005, 12);
    expect(scheduledLrAt(o.lr, o.schedule, 2_340)).toBeCloseTo(0, 12);
  });

  it('keeps the rate constant unless asked, and never plans zero steps', () => {
    expect(adam(0.01, 'constant', 30, 78)).toEqual({ kind: 'adam', lr: 0.01 });
    expect(adam(0.01, undefined, 30, 78)).toEqual({ kind: 'adam', lr: 0.01 });
    expect(adam(0.01, 'cosine', 30, 0).schedule).toEqual({ kind: 'cosine', totalSteps: 1 });
  });
});
