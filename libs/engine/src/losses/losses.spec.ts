/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import * as ort from 'onnxruntime-node';
import { Graph } from '../graph/graph';
import { emitModel } from '../onnx/emit';
import { checkGradient, testValues } from '../testing/finite-difference';
import { buildLoss, type LossSpec } from './losses';

const logits = Float32Array.from([2, -1, 0.5, 0.1, 0.2, 3]);
const labels = BigInt64Array.from([0n, 2n]);
const soft = Float32Array.from([0.7, 0.2, 0.1, 0, 0.5, 0.5]);

async function lossValue(spec: LossSpec, target: ort.Tensor, weights?: Float32Array): Promise<number> {
  const g = new Graph();
  const z = g.input('z', 'float32', [2, 3]);
  const t = g.input('t', target.type === 'int64' ? 'int64' : 'float32', target.dims);
  const w = weights ? g.input('w', 'float32', [2]) : null;
  g.output('loss', buildLoss(spec, z, t, w));
  const session = await ort.InferenceSession.create(emitModel(g, { mode: 'training' }));
  const feeds: Record<string, ort.Tensor> = { z: new ort.Tensor('float32', logits, [2, 3]), t: target };
  if (weights) feeds['w'] = new ort.Tensor('float32', weights, [2]);
  const out = (await session.run(feeds))['loss']!.data as Float32Array;
  await session.release();
  return out[0]!;
}

// Independent references computed here in float64.
const logSoftmaxRow = (row: number[]): number[] => {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
};
const rows = [Array.from(logits.subarray(0, 3)), Array.from(logits.subarray(3))];

describe(buildLoss.name, () => {
  it('computes cross-entropy with hard labels', async () => {
    const expected = -(logSoftmaxRow(rows[0]!)[0]! + logSoftmaxRow(rows[1]!)[2]!) / 2;
    expect(await lossValue({ kind: 'cross-entropy' }, new ort.Tensor('int64', labels, [2]))).toBeCloseTo(
      expected,
      5,
    );
  });

  it('weights samples as sum(w l) / sum(w)', async () => {
    const l0 = -logSoftmaxRow(rows[0]!)[0]!;
    const l1 = -logSoftmaxRow(rows[1]!)[2]!;
    const value = await lossValue(
      { kind: 'cross-entropy' },
      new ort.Tensor('int64', labels, [2]),
      Float32Array.from([3, 1]),
    );
    expect(value).toBeCloseTo((3 * l0 + l1) / 4, 5);
  });

  it('computes the distillation loss as T^2 KL(p || softmax(z / T)) (Hinton et al. 2015)', async () => {
    const T = 2;
    const kl = [0, 1].map((r) => {
      const q = logSoftmaxRow(rows[r]!.map((v) => v / T));
      return [0, 1, 2].reduce((a, k) => {
        const p = soft[r * 3 + k]!;
        return p > 0 ? a + p * (Math.log(p) - q[k]!) : a;
      }, 0);
    });
    const value = await lossValue(
      { kind: 'distillation', temperature: T },
      new ort.Tensor('float32', soft, [2, 3]),
    );
    expect(value).toBeCloseTo((T * T * (kl[0]! + kl[1]!)) / 2, 5);
  });

  it('is zero for distillation when the student matches the soft targets', async () => {
    const T = 3;
    const match = Float32Array.from(rows.flatMap((r) => logSoftmaxRow(r.map((v) => v / T)).map(Math.exp)));
    const value = await lossValue(
      { kind: 'distillation', temperature: T },
      new ort.Tensor('float32', match, [2, 3]),
    );
    expect(Math.abs(value)).toBeLessThan(1e-5);
  });

  it('computes MSE averaged over features and samples', async () => {
    const target = Float32Array.from([1, 0, 0, 0, 0, 1]);
    const expected = Array.from(logits).reduce((a, v, i) => a + (v - target[i]!) ** 2, 0) / 6;
    expect(await lossValue({ kind: 'mse' }, new ort.Tensor('float32', target, [2, 3]))).toBeCloseTo(
      expected,
      5,
    );
  });

  it('rejects a non-positive temperature naming it', () => {
    const g = new Graph();
    const z = g.input('z', 'float32', [2, 3]);
    expect(() => buildLoss({ kind: 'distillation', temperature: 0 }, z, z, null)).toThrow(
      /'temperature' must be > 0/,
    );
  });

  // Tolerance as in autodiff/rules/elementwise.spec.ts (O(1) values, few terms).
  it.each<[string, LossSpec]>([
    ['distillation', { kind: 'distillation', temperature: 2 }],
    ['mse', { kind: 'mse' }],
  ])('has the finite-difference gradient for %s', async (_n, spec) => {
    const sut = await checkGradient(
      ([z]) =>
        buildLoss(
          spec,
          z!,
          z!.graph.constant(soft, [2, 3]),
          z!.graph.constant(Float32Array.from([1, 2]), [2]),
        ),
      [{ shape: [2, 3], values: testValues(6, 5) }],
    );
    expect(sut.failures).toEqual([]);
  });
});
