/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { checkGradient, spreadValues, testValues } from '../../testing/finite-difference';
import { add, gemm, logSoftmax, matmul, softmax } from '../../ops/math';
import { avgPool2d, conv2d, globalAvgPool, layerNorm, maxPool2d } from '../../ops/nn';
import { concat, flatten, reduceMean, reduceSum, reshape, slice, transpose } from '../../ops/shape-ops';
import type { Tensor } from '../../graph/tensor';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../graph/graph';
import { mul } from '../../ops/math';
import { dropout } from '../../ops/nn';
import { emitModel } from '../../onnx/emit';
import { gradients } from '../gradients';

// Tolerances as in elementwise.spec.ts: O(1) values, at most a few hundred summed terms, so
// the float32 loss error (< 300 * 6e-8 * 30 ~ 5e-4 worst case, typically far less) over
// 2h = 0.02 stays below ~2e-3 once averaged; atol 4e-3 + 1% relative. A wrong rule (a wrong
// transpose, stride or normalization) is off by O(0.1) or more.
const tol = { atol: 4e-3, rtol: 1e-2 };
const p = (shape: number[], seed: number) => ({
  shape,
  values: testValues(
    shape.reduce((x, y) => x * y, 1),
    seed,
  ),
});

const cases: [string, (p: Tensor[]) => Tensor, { shape: number[]; values: Float32Array }[]][] = [
  ['Softmax', ([x]) => softmax(x!, 1), [p([3, 5], 1)]],
  ['LogSoftmax', ([x]) => logSoftmax(x!), [p([3, 5], 2)]],
  ['MatMul (3-D by 2-D)', ([x, w]) => matmul(x!, w!), [p([2, 3, 4], 3), p([4, 5], 4)]],
  // Batched heads (one dense layer per batch index): x [T, b, F] by w [T, F, H], then a bias
  // [T, 1, H] broadcast over the rows (its gradient sums over the rows of its own batch only).
  ['MatMul (batched 3-D by 3-D)', ([x, w]) => matmul(x!, w!), [p([3, 2, 4], 36), p([3, 4, 5], 37)]],
  [
    'MatMul (batched) + bias [T, 1, H]',
    ([x, w, c]) => add(matmul(x!, w!), c!),
    [p([3, 2, 4], 38), p([3, 4, 5], 39), p([3, 1, 5], 40)],
  ],
  ['MatMul (batched 4-D)', ([x, w]) => matmul(x!, w!), [p([2, 2, 3, 2], 41), p([2, 2, 2, 3], 42)]],
  [
    'Gemm',
    ([x, w, c]) => gemm(x!, w!, c!, { alpha: 0.7, beta: 1.3 }),
    [p([3, 4], 5), p([4, 5], 6), p([5], 7)],
  ],
  [
    'Gemm transA transB',
    ([x, w]) => gemm(x!, w!, null, { transA: true, transB: true }),
    [p([4, 3], 8), p([5, 4], 9)],
  ],
  [
    'Conv (stride 1, pad 1)',
    ([x, w, c]) => conv2d(x!, w!, c!, { pads: [1, 1, 1, 1] }),
    [p([2, 2, 5, 5], 10), p([3, 2, 3, 3], 11), p([3], 12)],
  ],
  [
    'Conv (stride 2, uneven)',
    ([x, w]) => conv2d(x!, w!, null, { strides: [2, 2], pads: [1, 0, 0, 1] }),
    [p([1, 2, 6, 5], 13), p([2, 2, 3, 2], 14)],
  ],
  ['MaxPool 2x2', ([x]) => maxPool2d(x!, [2, 2]), [{ shape: [2, 2, 4, 4], values: spreadValues(64, 15) }]],
  [
    'MaxPool 2x2 on an odd size (cropped)',
    ([x]) => maxPool2d(x!, [2, 2]),
    [{ shape: [1, 2, 5, 5], values: spreadValues(50, 33) }],
  ],
  [
    'Conv (stride 1, pad 2 > k - 1)',
    ([x, w]) => conv2d(x!, w!, null, { pads: [2, 0, 2, 1] }),
    [p([1, 2, 4, 4], 34), p([2, 2, 2, 2], 35)],
  ],
  // A rectangular kernel and three input channels: the weight gradient's one-hot im2col kernel
  // orders its output channels channel-major then tap (i * kw + j), as dW's [M, C, kh, kw].
  [
    'Conv (stride 1, 2x3 kernel, 3 channels, uneven pads)',
    ([x, w, c]) => conv2d(x!, w!, c!, { pads: [0, 1, 1, 2] }),
    [p([2, 3, 4, 5], 47), p([2, 3, 2, 3], 48), p([2], 49)],
  ],
  [
    'MaxPool 3x3 stride 1 (overlapping)',
    ([x]) => maxPool2d(x!, [3, 3], { strides: [1, 1] }),
    [{ shape: [1, 2, 4, 5], values: spreadValues(40, 16) }],
  ],
  ['AveragePool 2x2', ([x]) => avgPool2d(x!, [2, 2]), [p([2, 2, 4, 5], 17)]],
  [
    'AveragePool 3x3 stride 2 pad 1',
    ([x]) => avgPool2d(x!, [3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }),
    [p([1, 2, 5, 5], 18)],
  ],
  ['GlobalAveragePool', ([x]) => globalAvgPool(x!), [p([2, 3, 3, 2], 19)]],
  ['LayerNormalization', ([x, s, b]) => layerNorm(x!, s!, b!), [p([3, 6], 20), p([6], 21), p([6], 22)]],
  [
    'LayerNormalization (last two axes)',
    ([x, s]) => layerNorm(x!, s!, null, 1),
    [p([2, 3, 4], 23), p([3, 4], 24)],
  ],
  ['Flatten', ([x]) => flatten(x!), [p([2, 3, 2], 25)]],
  ['Reshape', ([x]) => reshape(x!, [3, -1]), [p([2, 3, 2], 26)]],
  ['Transpose', ([x]) => transpose(x!, [2, 0, 1]), [p([2, 3, 4], 27)]],
  ['Concat', ([x, y]) => concat([x!, y!], 1), [p([2, 3], 28), p([2, 2], 29)]],
  ['Slice', ([x]) => slice(x!, [1, 0], [3, -1], [0, 2]), [p([4, 3, 5], 30)]],
  ['ReduceSum', ([x]) => reduceSum(x!, [1], false), [p([2, 3, 4], 31)]],
  [
    'ReduceMax over a middle axis',
    ([x]) => x!.graph.apply1('ReduceMax', [x!, x!.graph.int64s([1])], { keepdims: { i: 0 } }),
    [{ shape: [2, 4, 3, 2], values: spreadValues(48, 50) }],
  ],
  // Broadcast sums: over leading axes (a Gemm by a row of ones) and over a middle and a
  // trailing axis (ReduceSum).
  ['Add bias [4] to [2, 3, 4]', ([x, b]) => add(x!, b!), [p([2, 3, 4], 43), p([4], 44)]],
  ['Add [1, 3, 1] to [2, 3, 4]', ([x, b]) => add(x!, b!), [p([2, 3, 4], 45), p([1, 3, 1], 46)]],
  ['ReduceMean', ([x]) => reduceMean(x!, [0, 2]), [p([2, 3, 4], 32)]],
];

describe('layer and shape gradient rules', () => {
  it.each(cases)('%s matches central finite differences', async (_name, build, params) => {
    const sut = await checkGradient(build, params, tol);
    expect(sut.failures).toEqual([]);
    expect(sut.checked).toBeGreaterThan(0);
  });
});

describe('broadcast gradient sums', () => {
  it('sums a bias gradient over the batch with a Gemm by ones, not a ReduceSum', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [8, 3]);
    const w = g.param('w', [3, 5]);
    const b = g.param('b', [5]);
    const [, db] = gradients(reduceSum(gemm(x, w, b), undefined, false), [w, b]);
    expect(db!.shape).toEqual([5]);
    const ones = g.nodes.filter((n) => n.op === 'Gemm' && n.inputs[0]?.kind === 'constant');
    expect(ones).toHaveLength(1);
    expect(g.nodes.filter((n) => n.op === 'ReduceSum')).toHaveLength(1); // the loss's own
  });
});

describe('Dropout gradient rule', () => {
  // Dropout draws a new mask per run, so finite differences do not apply. The independent
  // check: y = x * mask / (1 - p), so the gradient of sum(y * R) is R * (y != 0) / (1 - p),
  // read off the forward output of the same run.
  it('routes the gradient through the forward mask, scaled by 1 / (1 - p)', async () => {
    const g = new Graph();
    const x = g.param('x', [4, 50]);
    const y = dropout(x, 0.25, 5);
    const r = g.constant(testValues(200, 9), [4, 50]);
    const [dx] = gradients(reduceSum(mul(y, r), undefined, false), [x]);
    g.output('y', y);
    g.output('dx', dx!);
    const session = await ort.InferenceSession.create(emitModel(g, { mode: 'training' }));
    const xs = testValues(200, 3).map((v) => v + 2);
    const out = await session.run({ x: new ort.Tensor('float32', xs, [4, 50]) });
    await session.release();
    const ys = out['y']!.data as Float32Array;
    const dxs = out['dx']!.data as Float32Array;
    const rs = testValues(200, 9);
    let dropped = 0;
    ys.forEach((v, i) => {
      if (v === 0) dropped += 1;
      expect(dxs[i]).toBeCloseTo(v === 0 ? 0 : rs[i]! / 0.75, 5);
      if (v !== 0) expect(v).toBeCloseTo(xs[i]! / 0.75, 5);
    });
    expect(dropped).toBeGreaterThan(20);
    expect(dropped).toBeLessThan(90);
  });
});
