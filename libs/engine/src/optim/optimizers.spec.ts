/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { add, gemm } from '../ops/math';
import { buildTrainingGraph } from '../runner/training-graph';
import type { ModelDefinition } from '../models/definition';
import { Trainer } from '../runner/trainer';
import { type OptimizerSpec, validateOptimizer } from './optimizers';
import { scheduledLrAt } from './schedule';

// A model whose gradient is known in closed form: output = x + p, MSE against t, so
// dL/dp_j = (1/B) sum_b 2 (x_bj + p_j - t_bj) / 3. The updates below are re-derived from the
// papers' formulas in float64 and compared with the graph's float32 updates.
const model: ModelDefinition = {
  inputShape: [3],
  outputSize: 3,
  parameters: [{ name: 'p', shape: [1, 3], init: 'zeros', fanIn: 3, fanOut: 3 }],
  buffers: [],
  forward: (ctx, x) => add(x, ctx.param('p')),
};
const x = Float32Array.from([0.5, -1, 2, 1, 0, -0.5]);
const t = Float32Array.from([0, 1, 0, 2, -2, 1]);
const p0 = [0.3, -0.2, 0.1];

function grad(p: number[]): number[] {
  return p.map((pj, j) => [0, 1].reduce((a, b) => a + (2 * (x[b * 3 + j]! + pj - t[b * 3 + j]!)) / 3, 0) / 2);
}

function reference(o: OptimizerSpec, steps: number): number[] {
  let p = [...p0];
  const s1 = [0, 0, 0];
  const s2 = [0, 0, 0];
  const wd = o.weightDecay ?? 0;
  for (let step = 0; step < steps; step += 1) {
    const lr = scheduledLrAt(o.lr, o.schedule ?? { kind: 'constant' }, step);
    let g = grad(p);
    if (o.clipNorm) {
      const norm = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
      g = g.map((v) => v * Math.min(1, o.clipNorm! / (norm + 1e-6)));
    }
    if (o.kind === 'sgd') {
      const mu = o.momentum ?? 0;
      p = p.map((pj, j) => {
        const gj = g[j]! + wd * pj;
        s1[j] = mu * s1[j]! + gj;
        const d = mu === 0 ? gj : o.nesterov ? gj + mu * s1[j]! : s1[j]!;
        return pj - lr * d;
      });
    } else {
      const [b1, b2, eps] = [o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.eps ?? 1e-8];
      p = p.map((pj, j) => {
        const gj = o.kind === 'adam' ? g[j]! + wd * pj : g[j]!;
        s1[j] = b1 * s1[j]! + (1 - b1) * gj;
        s2[j] = b2 * s2[j]! + (1 - b2) * gj * gj;
        const mhat = s1[j]! / (1 - b1 ** (step + 1));
        const vhat = s2[j]! / (1 - b2 ** (step + 1));
        const decayed = o.kind === 'adamw' ? pj - lr * wd * pj : pj;
        return decayed - (lr * mhat) / (Math.sqrt(vhat) + eps);
      });
    }
  }
  return p;
}

const cases: [string, OptimizerSpec][] = [
  ['plain SGD', { kind: 'sgd', lr: 0.1 }],
  ['SGD with momentum and weight decay', { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 }],
  ['SGD Nesterov', { kind: 'sgd', lr: 0.1, momentum: 0.8, nesterov: true }],
  ['Adam', { kind: 'adam', lr: 0.05 }],
  ['Adam with L2 decay', { kind: 'adam', lr: 0.05, weightDecay: 0.1 }],
  ['AdamW', { kind: 'adamw', lr: 0.05, weightDecay: 0.1, beta1: 0.8, beta2: 0.99 }],
  [
    'step schedule with warm-up',
    { kind: 'sgd', lr: 0.1, schedule: { kind: 'step', stepSize: 2, gamma: 0.5, warmupSteps: 2 } },
  ],
  ['cosine schedule', { kind: 'adam', lr: 0.1, schedule: { kind: 'cosine', totalSteps: 3, minLr: 0.01 } }],
  ['global-norm clipping', { kind: 'sgd', lr: 0.1, momentum: 0.5, clipNorm: 0.1 }],
];

describe('optimizers', () => {
  it.each(cases)('%s matches the reference update over 4 steps', async (_name, spec) => {
    const sut = await Trainer.create({
      model,
      loss: { kind: 'mse' },
      optimizer: spec,
      batchSize: 2,
      initial: { params: new Map([['p', Float32Array.from(p0)]]), buffers: new Map() },
    });
    await sut.trainSteps(Array.from({ length: 4 }, () => ({ x, y: t })));
    const got = Array.from(sut.snapshot().params.get('p')!);
    reference(spec, 4).forEach((v, j) => expect(got[j]).toBeCloseTo(v, 5));
    await sut.dispose();
  });

  // A dense layer y = x W: SGD momentum folds the velocity into the weight-gradient Gemm
  // (C = v, beta = mu). The update must stay the textbook one, float64 re-derivation below.
  describe('momentum folded into the weight-gradient Gemm', () => {
    const dense: ModelDefinition = {
      inputShape: [3],
      outputSize: 2,
      parameters: [{ name: 'w', shape: [3, 2], init: 'zeros', fanIn: 3, fanOut: 2 }],
      buffers: [],
      forward: (ctx, input) => gemm(input, ctx.param('w')),
    };
    const w0 = [0.2, -0.1, 0.4, 0.3, -0.5, 0.1];
    const t2 = Float32Array.from([1, -1, 0.5, 2]);
    const spec: OptimizerSpec = { kind: 'sgd', lr: 0.1, momentum: 0.9 };

    function denseReference(steps: number): number[] {
      const w = [...w0];
      const v = w.map(() => 0);
      for (let s = 0; s < steps; s += 1) {
        const g = w.map(() => 0);
        for (let b = 0; b < 2; b += 1) {
          for (let k = 0; k < 2; k += 1) {
            const y = [0, 1, 2].reduce((a, i) => a + x[b * 3 + i]! * w[i * 2 + k]!, 0);
            const dy = (2 * (y - t2[b * 2 + k]!)) / 2 / 2; // MSE: mean over 2 outputs, then over 2 samples
            for (let i = 0; i < 3; i += 1) g[i * 2 + k] = g[i * 2 + k]! + x[b * 3 + i]! * dy;
          }
        }
        w.forEach((wj, j) => {
          v[j] = 0.9 * v[j]! + g[j]!;
          w[j] = wj - 0.1 * v[j]!;
        });
      }
      return w;
    }

    it('emits one Gemm with C = velocity and beta = momentum, and no separate gradient', () => {
      const g = buildTrainingGraph({
        model: dense,
        loss: { kind: 'mse' },
        optimizer: spec,
        batchSize: 2,
        stepsPerRun: 2,
        sampleWeights: false,
        seed: 0,
      });
      const fused = g.nodes.filter((n) => n.op === 'Gemm' && n.inputs[2]?.name.startsWith('opt/w.velocity'));
      expect(fused).toHaveLength(1); // step 1 reads the velocity input; step 2 the Gemm of step 1
      const gemms = g.nodes.filter((n) => n.op === 'Gemm');
      // per step: the forward Gemm, the input-free weight-gradient Gemm folded with the velocity
      expect(gemms).toHaveLength(4);
      expect(
        gemms.filter((n) => n.attrs['beta'] && 'f' in n.attrs['beta'] && n.attrs['beta'].f === 0.9),
      ).toHaveLength(2);
      // every node output is read or is a graph output: the replaced gradient Gemm is gone
      for (const n of g.nodes)
        for (const o of n.outputs) expect(g.isRead(o) || g.outputs.some((x) => x.tensor === o)).toBe(true);
    });

    it.each([1, 3])('matches the float64 update over 4 steps (%i steps per run)', async (stepsPerRun) => {
      const sut = await Trainer.create({
        model: dense,
        loss: { kind: 'mse' },
        optimizer: spec,
        batchSize: 2,
        stepsPerRun,
        initial: { params: new Map([['w', Float32Array.from(w0)]]), buffers: new Map() },
      });
      await sut.trainSteps(Array.from({ length: 4 }, () => ({ x, y: t2 })));
      const got = Array.from(sut.snapshot().params.get('w')!);
      denseReference(4).forEach((v, j) => expect(got[j]).toBeCloseTo(v, 5));
      await sut.dispose();
    });
  });

  it('rejects bad settings naming them', () => {
    expect(() => validateOptimizer({ kind: 'sgd', lr: 0 })).toThrow(/'lr' must be > 0/);
    expect(() => validateOptimizer({ kind: 'sgd', lr: 1, momentum: 1 })).toThrow(/'momentum'/);
    expect(() => validateOptimizer({ kind: 'sgd', lr: 1, nesterov: true })).toThrow(/'nesterov'/);
    expect(() => validateOptimizer({ kind: 'adam', lr: 1, beta2: 1 })).toThrow(/'beta2'/);
    expect(() => validateOptimizer({ kind: 'adam', lr: 1, clipNorm: -1 })).toThrow(/'clipNorm'/);
    expect(() =>
      validateOptimizer({ kind: 'adam', lr: 1, schedule: { kind: 'cosine', totalSteps: 0 } }),
    ).toThrow(/'totalSteps'/);
  });

  it('evaluates schedules on the host by their formulas', () => {
    expect(scheduledLrAt(1, { kind: 'step', stepSize: 10, gamma: 0.1 }, 25)).toBeCloseTo(0.01, 12);
    expect(scheduledLrAt(1, { kind: 'cosine', totalSteps: 100 }, 50)).toBeCloseTo(0.5, 12);
    expect(scheduledLrAt(1, { kind: 'constant', warmupSteps: 4 }, 0)).toBeCloseTo(0.25, 12);
  });
});
