import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { exportTorchTeachers, hasTorch, NEEDS_TORCH } from '../../distill/test-support/torch-teachers';
import { parseSimulationConfig } from './config-file';
import { runSimulation } from './run-simulation';

/** CI installs python3-torch: there a missing torch fails these tests instead of skipping them. */
const torchRuns = hasTorch || Boolean(process.env.CI);
const withTorch = torchRuns ? it : it.skip;

/** Breast-cancer records have 30 features and 2 classes. */
const FEATURES = 30;
const CLASSES = 2;

/**
 * The simulator with a real user's teachers: tiny MLPs exported by PyTorch's torch.onnx.export
 * (input 'x', output 'scores'), listed per site in the simulation config as node.yaml lists
 * them. Each node copies and loads its own files with its own code.
 */
describe('runSimulation with site-provided ONNX teachers', () => {
  let dir = '';
  const config = (third: unknown[]) =>
    parseSimulationConfig(
      {
        dataset: 'breast-cancer',
        sites: 3,
        partitionSeed: 4,
        teachers: {
          onnx: [['a.onnx', 'b.onnx'], [{ path: 'probs.onnx', outputKind: 'probabilities' }], third],
          outputKind: 'logits',
        },
        referenceSize: 100,
        federation: {
          student: { architecture: 'mlp', hidden: [8] },
          distillation: { epochs: 5, batchSize: 16 },
          privacy: {
            mechanism: 'skellam',
            noiseMultiplier: 1,
            delta: 1e-5,
            epsilonCap: 100,
            assumedColluders: 0,
          },
          secureAggregation: { threshold: 2 },
          rounds: { queriesPerRound: 10, maxRounds: 1 },
        },
        seed: 4,
      },
      'sim.yaml',
      { baseDir: dir },
    );

  beforeAll(() => {
    if (!torchRuns) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-sim-torch-'));
    exportTorchTeachers(dir, FEATURES, CLASSES);
  }, 120_000);
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  withTorch(
    `answers a round with every site's own torch-exported models, copied into its node directory ${NEEDS_TORCH}`,
    async () => {
      const workspace = path.join(dir, 'run');
      const sut = await runSimulation(
        config([
          { path: 'two-outputs.onnx', input: 'x', output: 'probs', outputKind: 'probabilities' },
          'fixed1.onnx',
        ]),
        { workspace },
      );
      expect(sut.rounds).toHaveLength(1);
      expect(sut.rounds[0]!.abandoned).toBeNull();
      expect(sut.rounds[0]!.survivors).toEqual([0, 1, 2]);
      expect(sut.rounds[0]!.queries).toBe(10);
      expect(sut.student).not.toBeNull();
      // Each node holds copies of its site's files and lists them in its node.yaml.
      const site = (i: number) => path.join(workspace, 'sites', `site-${i + 1}`);
      const teachers = (i: number) =>
        (parse(fs.readFileSync(path.join(site(i), 'node.yaml'), 'utf8')) as { teachers: unknown }).teachers;
      expect(teachers(0)).toEqual({ onnx: ['teachers/0.onnx', 'teachers/1.onnx'], outputKind: 'logits' });
      expect(teachers(2)).toEqual({
        onnx: [
          { path: 'teachers/0.onnx', input: 'x', output: 'probs', outputKind: 'probabilities' },
          'teachers/1.onnx',
        ],
        outputKind: 'logits',
      });
      const same = (i: number, copy: string, original: string) =>
        expect(fs.readFileSync(path.join(site(i), 'teachers', copy))).toEqual(
          fs.readFileSync(path.join(dir, original)),
        );
      same(0, '1.onnx', 'b.onnx');
      same(1, '0.onnx', 'probs.onnx');
      same(2, '1.onnx', 'fixed1.onnx');
    },
    300_000,
  );

  withTorch(
    `abandons the round when a site's model does not fit, so the nodes really load the listed files ${NEEDS_TORCH}`,
    async () => {
      // batch-bound.onnx reshapes every batch to one row: the node refuses it and declines.
      const workspace = path.join(dir, 'refused');
      const sut = await runSimulation(config(['batch-bound.onnx']), { workspace });
      expect(sut.rounds[0]!.abandoned).toMatch(/advertised keys/);
      expect(sut.rounds[0]!.survivors).toEqual([]);
      expect(sut.student).toBeNull();
      // The third node declined, naming its model's problem (its own check, in its own log).
      const log = fs.readFileSync(path.join(workspace, 'logs', 'site-3.log'), 'utf8');
      expect(log).toContain('round declined');
      expect(log).toContain('runs on one input at a time only');
    },
    300_000,
  );
});
