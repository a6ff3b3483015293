/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import type { Tensor } from '../graph/tensor';
import { checkGradient, testValues } from '../testing/finite-difference';
import { batchNorm } from './batch-norm';
import type { ForwardContext } from './definition';

/** A training context whose parameters are the given scale and bias, with fixed running statistics. */
function context(scale: Tensor, bias: Tensor): ForwardContext {
  const g = scale.graph;
  const buffers = new Map([
    ['bn.runningMean', g.constant(new Float32Array(3), [3])],
    ['bn.runningVar', g.constant(new Float32Array(3).fill(1), [3])],
  ]);
  return {
    training: true,
    param: (name) => (name === 'bn.scale' ? scale : bias),
    buffer: (name) => buffers.get(name)!,
    setBuffer: () => undefined,
    nextSeed: () => 1,
  };
}

describe(batchNorm.name, () => {
  // Batch normalization in training is built from primitives whose rules are tested one by
  // one; this checks the composite (batch mean and variance depend on every input) against
  // central finite differences. Tolerance as in autodiff/rules/layers.spec.ts: O(1) values,
  // 2*3*2*2 = 24 outputs, float32 loss error / 2h well below atol 4e-3.
  it('has the finite-difference gradient with respect to input, scale and bias', async () => {
    const sut = await checkGradient(
      ([x, s, b]) => batchNorm(context(s!, b!), 'bn', x!),
      [
        { shape: [2, 3, 2, 2], values: testValues(24, 41) },
        { shape: [3], values: Float32Array.from([1.2, 0.8, -0.5]) },
        { shape: [3], values: testValues(3, 42) },
      ],
      { atol: 4e-3, rtol: 1e-2 },
    );
    expect(sut.failures).toEqual([]);
    expect(sut.checked).toBe(30);
  });
});
