import type { OptimizerSpec } from '@fedistill/engine';

/**
 * How a training's learning rate moves: 'constant', or 'cosine' annealing to zero over every step
 * of the training (Loshchilov & Hutter, arXiv:1608.03983, eq. 5, no restarts). Measured on
 * Fashion-MNIST (docs/benchmarks.md, "Student learning-rate schedule"), cosine lifts the
 * distilled student by about 2 points and shrinks its spread over seeds.
 */
export type LearningRateSchedule = 'constant' | 'cosine';

/** Adam at `lr` with `schedule` over `epochs` x `stepsPerEpoch` updates. */
export function adam(
  lr: number,
  schedule: LearningRateSchedule | undefined,
  epochs: number,
  stepsPerEpoch: number,
): OptimizerSpec {
  if (schedule !== 'cosine') return { kind: 'adam', lr };
  return { kind: 'adam', lr, schedule: { kind: 'cosine', totalSteps: Math.max(1, epochs * stepsPerEpoch) } };
}
