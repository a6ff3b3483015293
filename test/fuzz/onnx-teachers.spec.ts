/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { assertNoFindings } from './support/property';
import { onnxTeacherSurface } from './surfaces/onnx-teachers';

describe('fuzzing: ONNX teacher files', () => {
  it('a damaged model is opened or refused with OnnxTeacherError naming the model', async () => {
    // ONNX Runtime logs each refused model to stderr itself (native code): expected here.
    await assertNoFindings(onnxTeacherSurface, 150);
  });
});
