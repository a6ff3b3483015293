import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportTorchTeachers, NEEDS_TORCH, type TorchGolden, hasTorch } from '../test-support/torch-teachers';
import { OnnxTeacherError, type OnnxTeacherModel } from './onnx-teachers';
import { TeacherEnsemble } from './teachers';

/** CI installs python3-torch: there a missing torch fails these tests instead of skipping them. */
const torchRuns = hasTorch || Boolean(process.env.CI);
const withTorch = torchRuns ? it : it.skip;

const FEATURES = 13;
const CLASSES = 3;

/** The largest absolute difference between two equally long vectors. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i += 1) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Teachers exported by PyTorch's torch.onnx.export, as a site's ML engineer would make them. */
describe(`${TeacherEnsemble.name}.load with torch-exported teachers`, () => {
  let dir = '';
  let golden: TorchGolden;
  const model = (file: string, o: Omit<OnnxTeacherModel, 'model' | 'file'> = {}): OnnxTeacherModel => ({
    model: new Uint8Array(fs.readFileSync(path.join(dir, file))),
    file,
    ...o,
  });
  const refusal = async (m: OnnxTeacherModel, shape = [FEATURES], classes = CLASSES) => {
    const err = await TeacherEnsemble.load([m], shape, classes, { threads: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OnnxTeacherError);
    return err as OnnxTeacherError;
  };

  beforeAll(() => {
    if (!torchRuns) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-torch-teachers-'));
    golden = exportTorchTeachers(dir, FEATURES, CLASSES);
  }, 120_000);
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  withTorch(
    `takes one-input one-output models whatever their names, and gives torch's probabilities for logits, probabilities and fixed-batch-1 outputs ${NEEDS_TORCH}`,
    async () => {
      const names = ['a', 'b', 'probs', 'fixed1', 'two-outputs'];
      const sut = await TeacherEnsemble.load(
        [
          model('a.onnx'),
          model('b.onnx', { outputKind: 'logits' }),
          model('probs.onnx', { outputKind: 'probabilities' }),
          model('fixed1.onnx'),
          model('two-outputs.onnx', { input: 'x', output: 'probs', outputKind: 'probabilities' }),
        ],
        [FEATURES],
        CLASSES,
        { threads: 1 },
      );
      try {
        const x = Float32Array.from(golden.x);
        const n = x.length / FEATURES;
        const [t1, t2] = [await sut.probabilities(x, n, 1), await sut.probabilities(x, n, 2)];
        // Probabilities are tempered as p^(1/T), renormalized: softmax(log p / T) in torch.
        const within = (got: Float32Array[], want: 't1' | 't2') =>
          names.map((name, t) => {
            const d = maxDiff(got[t]!, golden.models[name]![want]);
            return `${name}: ${d < 1e-5 ? 'within 1e-5' : d}`;
          });
        const ok = names.map((name) => `${name}: within 1e-5`);
        expect(within(t1, 't1')).toEqual(ok);
        expect(within(t2, 't2')).toEqual(ok);
        // The probabilities model is not put through a softmax again: its rows are torch's.
        expect(maxDiff(t1[2]!, golden.models.probs!.t1)).toBeLessThan(1e-6);
        // Tempering changed something, so the T = 2 comparison is not T = 1's again.
        expect(maxDiff(t2[0]!, golden.models.a!.t1)).toBeGreaterThan(1e-3);
      } finally {
        await sut.dispose();
      }
    },
  );

  withTorch(
    `refuses a model that does not fit, naming the file, its inputs and outputs with types and shapes, and what was expected ${NEEDS_TORCH}`,
    async () => {
      const both = "outputs 'scores' float32 [batch, 3], 'probs' float32 [batch, 3]";
      let err = await refusal(model('two-outputs.onnx'));
      expect(err.mismatch).toBe('names');
      expect(err.message).toContain('teacher model 0 (two-outputs.onnx): the model has 2 outputs');
      expect(err.message).toContain(`inputs 'x' float32 [batch, 13]; ${both}`);

      err = await refusal(model('a.onnx', { output: 'logits' }));
      expect(err.mismatch).toBe('names');
      expect(err.message).toContain("the model has no output named 'logits'");
      expect(err.message).toContain("outputs 'scores' float32 [batch, 3]");

      err = await refusal(model('a.onnx'), [12]);
      expect(err.mismatch).toBe('input');
      expect(err.message).toContain(
        "teacher model 0 (a.onnx) does not take inputs of shape [N, 12] (the federation's input.shape is [12]): its input is 'x' float32 [batch, 13]",
      );

      err = await refusal(model('a.onnx'), [FEATURES], 4);
      expect(err.mismatch).toBe('output');
      expect(err.message).toContain('teacher model 0 (a.onnx) gives 3 outputs; the federation has 4 classes');
      expect(err.message).toContain("expected output 'scores' [N, 4]");

      err = await refusal(model('batch-bound.onnx'));
      expect(err.mismatch).toBe('batch');
      expect(err.message).toContain('runs on one input at a time only');
      expect(err.message).toContain('dynamic_axes');
      expect(err.message).toContain("outputs 'scores' float32 [1, 3]");

      err = await refusal(model('probs.onnx'));
      expect(err.message).toMatch(
        /taken as logits, but its rows are probabilities .* say outputKind probabilities/,
      );
      err = await refusal(model('a.onnx', { outputKind: 'probabilities' }));
      expect(err.message).toMatch(/declared probabilities, but its rows are not in \[0, 1\] summing to 1/);
    },
  );
});
