/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import * as ort from 'onnxruntime-node';
import { Graph } from '../graph/graph';
import { gelu, gemm, relu } from '../ops/math';
import { reduceMean } from '../ops/shape-ops';
import { emitModel } from './emit';

describe(emitModel.name, () => {
  it('emits a model that ONNX Runtime runs with the expected values', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [null, 2]);
    const w = g.param('w', [2, 2]);
    const b = g.constant(new Float32Array([0.5, -1]), [2]);
    g.output('y', relu(gemm(x, w, b)));
    g.output('z', gelu(x));
    const sut = emitModel(g, { mode: 'training' });
    const session = await ort.InferenceSession.create(sut);
    const out = await session.run({
      x: new ort.Tensor('float32', new Float32Array([1, 2, -3, 4]), [2, 2]),
      w: new ort.Tensor('float32', new Float32Array([1, 0, 0, 1]), [2, 2]),
    });
    // x W + b = [[1.5, 1], [-2.5, 3]], then relu.
    expect(Array.from(out['y']!.data as Float32Array)).toEqual([1.5, 1, 0, 3]);
    // GELU(1) = 0.841344746..., GELU(-3) = -0.004049694... (x * Phi(x), standard normal table).
    const z = out['z']!.data as Float32Array;
    expect(z[0]).toBeCloseTo(0.8413447, 6);
    expect(z[2]).toBeCloseTo(-0.0040497, 6);
    await session.release();
  });

  it('leaves out constants no node reads, so ONNX Runtime has no unused initializer to warn about', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [null, 3]);
    const unused = g.constant(new Float32Array([7, 7, 7]), [3]);
    const kept = g.constant(new Float32Array([1, 2, 3]), [3]);
    // ReduceMean's axes are a constant in the builder and an attribute in opset 17.
    const mean = reduceMean(x, [1]);
    g.output('y', gemm(x, g.constant(new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), [3, 3]), kept));
    g.output('m', mean);
    const sut = Buffer.from(emitModel(g, { mode: 'training' }));
    expect(sut.includes(Buffer.from(unused.name))).toBe(false);
    expect(sut.includes(Buffer.from(kept.name))).toBe(true);
    const session = await ort.InferenceSession.create(sut);
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3]), [1, 3]) });
    expect(Array.from(out['y']!.data as Float32Array)).toEqual([2, 4, 6]);
    expect(Array.from(out['m']!.data as Float32Array)).toEqual([2]);
    await session.release();
  });
});
