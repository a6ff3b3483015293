import { Graph } from '../graph/graph';
import type { Tensor } from '../graph/tensor';
import { softmax } from '../ops/math';
import type { ForwardContext, ModelDefinition } from '../models/definition';
import type { ModelValues } from '../models/init';
import { emitModel } from '../onnx/emit';

/** Names of the exported model's input and outputs. */
export const INFERENCE_INPUT = 'input';
export const INFERENCE_LOGITS = 'logits';
export const INFERENCE_PROBABILITIES = 'probabilities';

class InferContext implements ForwardContext {
  readonly training = false;
  constructor(
    private readonly graph: Graph,
    private readonly values: ModelValues,
  ) {}
  param(name: string): Tensor {
    const t = this.graph.params.find((p) => p.name === name);
    if (!t) throw new RangeError(`model uses undeclared parameter '${name}'`);
    return t;
  }
  buffer(name: string): Tensor {
    const v = this.values.buffers.get(name);
    if (!v) throw new RangeError(`no value for buffer '${name}'`);
    return this.graph.constants.get(name)?.tensor ?? this.graph.constant(v, [v.length], name);
  }
  setBuffer(): void {
    throw new TypeError('buffers cannot change in an inference graph');
  }
  nextSeed(): number {
    return 0;
  }
}

/** The forward pass alone, batch dimension dynamic (`N`): input -> logits, probabilities. */
export function buildInferenceGraph(model: ModelDefinition, values: ModelValues): Graph {
  const g = new Graph();
  const x = g.input(INFERENCE_INPUT, 'float32', [null, ...model.inputShape]);
  for (const p of model.parameters) g.param(p.name, p.shape);
  const logits = model.forward(new InferContext(g, values), x);
  g.output(INFERENCE_LOGITS, logits);
  g.output(INFERENCE_PROBABILITIES, softmax(logits));
  return g;
}

/**
 * An inference-only ONNX model (opset 17) of a trained model: parameters and buffers are
 * initializers; no training inputs, gradients or optimizer ops. Loads in stock ONNX Runtime.
 */
export function exportInferenceModel(model: ModelDefinition, values: ModelValues): Uint8Array {
  return emitModel(
    buildInferenceGraph(model, values),
    { mode: 'inference', paramValues: values.params },
    'fedistill-inference',
  );
}
