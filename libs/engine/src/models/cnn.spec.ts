/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import * as ort from 'onnxruntime-node';
import { Graph } from '../graph/graph';
import { emitModel } from '../onnx/emit';
import { sub } from '../ops/math';
import { conv2d, maxPool2d } from '../ops/nn';
import { checkGradient, spreadValues, testValues } from '../testing/finite-difference';
import { phasedConvPool } from './cnn';

describe(phasedConvPool.name, () => {
  it('gives the values of Conv 3x3 (pad 1) then 2x2 max-pool', async () => {
    const [n, c, m, h, w] = [3, 2, 5, 6, 8];
    const g = new Graph();
    const x = g.input('x', 'float32', [n, c, h, w]);
    const k = g.input('k', 'float32', [m, c, 3, 3]);
    const b = g.input('b', 'float32', [m]);
    const plain = maxPool2d(conv2d(x, k, b, { pads: [1, 1, 1, 1] }), [2, 2]);
    g.output('diff', sub(phasedConvPool(x, k, b, m, c, h, w), plain));
    g.output('plain', plain);
    const session = await ort.InferenceSession.create(emitModel(g, { mode: 'training' }));
    const out = await session.run({
      x: new ort.Tensor('float32', testValues(n * c * h * w, 1), [n, c, h, w]),
      k: new ort.Tensor('float32', testValues(m * c * 9, 2), [m, c, 3, 3]),
      b: new ort.Tensor('float32', testValues(m, 3), [m]),
    });
    await session.release();
    expect(out['diff']!.dims).toEqual([n, m, h / 2, w / 2]);
    const diff = out['diff']!.data as Float32Array;
    expect(Math.max(...diff.map(Math.abs))).toBeLessThan(1e-5);
    // Not vacuous: the pooled values themselves are far from zero.
    expect(Math.max(...(out['plain']!.data as Float32Array).map(Math.abs))).toBeGreaterThan(0.5);
  });

  it('has the gradients of its weights, bias and input (central finite differences)', async () => {
    const sut = await checkGradient(
      ([x, k, b]) => phasedConvPool(x!, k!, b!, 3, 2, 4, 6),
      [
        { shape: [2, 2, 4, 6], values: spreadValues(96, 4) },
        { shape: [3, 2, 3, 3], values: testValues(54, 5) },
        { shape: [3], values: testValues(3, 6) },
      ],
      { atol: 4e-3, rtol: 1e-2 },
    );
    expect(sut.failures).toEqual([]);
    expect(sut.checked).toBeGreaterThan(0);
  });
});
