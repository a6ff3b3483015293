/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { mlp } from '../models/mlp';
import { smallCnn } from '../models/cnn';
import type { ModelDefinition } from '../models/definition';
import { Trainer } from '../runner/trainer';
import { SeededRandom } from '../models/init';
import { buildInferenceGraph, exportInferenceModel } from './inference-graph';

const PYTHON = '/usr/bin/python3';

function batch(n: number, features: number, classes: number, seed: number) {
  const rng = new SeededRandom(seed);
  const x = Float32Array.from({ length: n * features }, () => rng.normal());
  const y = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rng.next() * classes)));
  return { x, y };
}

/** Mean cross-entropy of logits [n, k] computed here in float64. */
function crossEntropy(logits: Float32Array, y: BigInt64Array): number {
  const k = logits.length / y.length;
  let total = 0;
  y.forEach((label, i) => {
    const row = Array.from(logits.subarray(i * k, (i + 1) * k));
    const m = Math.max(...row);
    total += m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) - row[Number(label)]!;
  });
  return total / y.length;
}

const models: [string, ModelDefinition, number][] = [
  ['MLP with GELU', mlp({ inputShape: [12], hidden: [10, 8], outputs: 4, activation: 'gelu' }), 12],
  ['small CNN', smallCnn({ inputShape: [1, 8, 8], channels: [3, 4], hidden: 6, outputs: 4 }), 64],
];

describe(exportInferenceModel.name, () => {
  it.each(models)('%s: the exported model gives the training forward pass', async (_n, model, features) => {
    const trainer = await Trainer.create({
      model,
      loss: { kind: 'cross-entropy' },
      optimizer: { kind: 'sgd', lr: 0.1 },
      batchSize: 5,
      seed: 3,
    });
    const warm = batch(5, features, 4, 1);
    await trainer.trainSteps([warm, warm]);
    const sut = trainer.exportInference();
    const probe = batch(5, features, 4, 2);
    const session = await ort.InferenceSession.create(sut);
    const out = await session.run({ input: new ort.Tensor('float32', probe.x, [5, ...model.inputShape]) });
    // The training step reports the loss of its forward pass before updating.
    const [trainLoss] = await trainer.trainSteps([probe]);
    expect(crossEntropy(out['logits']!.data as Float32Array, probe.y)).toBeCloseTo(trainLoss!, 5);
    const probs = out['probabilities']!.data as Float32Array;
    expect(probs.subarray(0, 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(session.inputNames).toEqual(['input']);
    await session.release();
    await trainer.dispose();
  });

  it('contains no training inputs or ops and accepts any batch size', async () => {
    const model = smallCnn({
      inputShape: [1, 8, 8],
      channels: [2],
      hidden: 4,
      outputs: 3,
      batchNorm: true,
      dropout: 0.5,
    });
    const trainer = await Trainer.create({
      model,
      loss: { kind: 'cross-entropy' },
      optimizer: { kind: 'sgd', lr: 0.1 },
      batchSize: 4,
    });
    const values = trainer.snapshot();
    await trainer.dispose();
    const ops = new Set(buildInferenceGraph(model, values).nodes.map((n) => n.op));
    expect(
      [...ops].filter((op) => ['Dropout', 'ScatterElements', 'ConvTranspose', 'OneHot'].includes(op)),
    ).toEqual([]);
    expect(ops.has('BatchNormalization')).toBe(true);
    const session = await ort.InferenceSession.create(exportInferenceModel(model, values));
    const out = await session.run({
      input: new ort.Tensor('float32', new Float32Array(7 * 64), [7, 1, 8, 8]),
    });
    expect(out['logits']!.dims).toEqual([7, 3]);
    await session.release();
  });

  it("passes onnx.checker.check_model(full_check=True) of Debian python3-onnx (ONNX Runtime's strict loader without it, outside CI)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedistill-onnx-'));
    try {
      const files = models.map(([name, model], i) => {
        const file = join(dir, `m${i}.onnx`);
        writeFileSync(file, exportInferenceModel(model, { ...initValues(model), buffers: new Map() }));
        return [name, file] as const;
      });
      const bn = smallCnn({ inputShape: [1, 8, 8], channels: [2], hidden: 4, outputs: 3, batchNorm: true });
      const bnFile = join(dir, 'bn.onnx');
      writeFileSync(bnFile, exportInferenceModel(bn, initValues(bn)));
      const all = [...files.map(([, f]) => f), bnFile];
      const probe = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
      if (probe.status !== 0) {
        // CI installs python3-onnx (.ci/run) and must run the strong check.
        if (process.env.CI)
          throw new Error(
            `${PYTHON} cannot import onnx (${probe.error?.message ?? probe.stderr.trim()}); ` +
              'install it with: apt-get install -y python3-onnx',
          );
        // A fresh machine with only Node.js and npm: ONNX Runtime's loader with every graph
        // optimization off checks the model as written (schema of every op at the declared
        // opset, types and shapes inferred through the graph, every input defined).
        console.warn(
          "python3-onnx is not installed: the exported models were checked with ONNX Runtime's loader " +
            '(optimizations off) instead of onnx.checker.check_model(full_check=True), which CI runs ' +
            '(apt-get install -y python3-onnx to run it here).',
        );
        for (const file of all) {
          const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'disabled' });
          expect(session.inputNames).toEqual(['input']);
          expect(session.outputNames).toEqual(expect.arrayContaining(['logits', 'probabilities']));
          await session.release();
        }
        return;
      }
      const script =
        'import sys, onnx\nfor p in sys.argv[1:]:\n    m = onnx.load(p)\n    onnx.checker.check_model(m, full_check=True)\n    print("ok", p)\n';
      const run = spawnSync(PYTHON, ['-c', script, ...all], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout.trim().split('\n')).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function initValues(model: ModelDefinition) {
  const rng = new SeededRandom(1);
  return {
    params: new Map(
      model.parameters.map(
        (p) =>
          [
            p.name,
            Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.1),
          ] as const,
      ),
    ),
    buffers: new Map(model.buffers.map((b) => [b.name, new Float32Array(b.shape[0]!).fill(b.fill)] as const)),
  };
}
