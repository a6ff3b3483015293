import type { Standardizer } from '@fedistill/data';
import { div, type ModelDefinition, sub, type Tensor } from '@fedistill/engine';

/**
 * `inner` with the standardization z = (x - mean) / std as its first two operations, so that the
 * exported ONNX model takes raw inputs: a site that downloads the student needs nothing but the
 * model file. mean and std are constants of the graph (not parameters), so training leaves them
 * as fitted.
 */
export function standardizedModel(inner: ModelDefinition, standardizer: Standardizer): ModelDefinition {
  const per = inner.inputShape.reduce((a, b) => a * b, 1);
  if (standardizer.mean.length !== per)
    throw new RangeError(
      `'standardizer' has ${standardizer.mean.length} features; the model's input has ${per}`,
    );
  const mean = Float32Array.from(standardizer.mean);
  const std = Float32Array.from(standardizer.std);
  return {
    inputShape: inner.inputShape,
    outputSize: inner.outputSize,
    parameters: inner.parameters,
    buffers: inner.buffers,
    forward: (ctx, x: Tensor) => {
      const shape = [1, ...inner.inputShape];
      const z = div(sub(x, x.graph.constant(mean, shape)), x.graph.constant(std, shape));
      return inner.forward(ctx, z);
    },
  };
}
