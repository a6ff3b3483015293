import { OnnxTeacherError, TeacherEnsemble } from '@fedistill/distill';
import { exportInferenceModel, initModel, mlp, smallCnn } from '@fedistill/engine';
import { fuzzBytes } from '../support/mutators';
import { mutateProtobuf } from '../support/protobuf';
import { type FuzzSurface, hexOf, refusedWith } from '../support/surface';

/**
 * Site-provided ONNX teachers (node.yaml teachers.onnx) as the node opens them:
 * TeacherEnsemble.load, which opens each with openOnnxTeacher: it loads the bytes into ONNX Runtime, checks the signature against the federation and
 * probes two rows. Damaged models must be refused with OnnxTeacherError naming the model. The
 * valid models are fedistill's own exports (an MLP, a small CNN), so no fixture file is needed.
 */

const FEATURES = [4];
const IMAGE = [1, 4, 4];
const CLASSES = 3;

function seeds(): { model: Uint8Array; shape: number[] }[] {
  const m = mlp({ inputShape: FEATURES, hidden: [5], outputs: CLASSES });
  const c = smallCnn({
    inputShape: IMAGE as [number, number, number],
    channels: [2],
    hidden: 4,
    outputs: CLASSES,
  });
  return [
    { model: exportInferenceModel(m, initModel(m, 1)), shape: FEATURES },
    { model: exportInferenceModel(c, initModel(c, 2)), shape: IMAGE },
  ];
}

let models: ReturnType<typeof seeds> | undefined;
const modelsOf = () => (models ??= seeds());

interface TeacherCase {
  readonly model: Uint8Array;
  readonly shape: number[];
}

export const onnxTeacherSurface: FuzzSurface<TeacherCase, number> = {
  name: 'onnx teacher',
  generate: (rng) => {
    const all = modelsOf();
    const base = rng.pick(all);
    // Damage to the model's own bytes (so the federation's shape still matches it): half of it
    // field by field in the protobuf tree (dims, data types, attributes), half byte by byte.
    const model = (rng.chance(0.5) && mutateProtobuf(rng, base.model)) || fuzzBytes(rng, [base.model]);
    return { model, shape: base.shape };
  },
  feed: async (c) => {
    const teachers = await TeacherEnsemble.load(
      [{ model: c.model, file: 'teacher.onnx' }],
      c.shape,
      CLASSES,
      {
        threads: 1,
      },
    );
    await teachers.dispose();
    return teachers.size;
  },
  refusal: refusedWith(OnnxTeacherError),
  show: (c) => `shape [${c.shape.join(', ')}] model ${hexOf(c.model, 400)}`,
};
