// Public API of @fedistill/engine: graph building, ops, autodiff, losses, optimizers,
// model builders, training runner, export and checkpoints.
export { Graph } from './graph/graph';
export type { Attr, Attrs, ConstantData, GraphNode } from './graph/graph';
export { Tensor, formatShape } from './graph/tensor';
export type { Dim, DType, TensorKind } from './graph/tensor';
export { GraphBuildError, UnsupportedOpError } from './graph/errors';
export { opSpecs } from './ops/specs';
export type { OpSpec, OutputSpec } from './ops/specs';
export {
  add,
  div,
  exp,
  gelu,
  gemm,
  leakyRelu,
  log,
  logSoftmax,
  matmul,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  softmax,
  sqrt,
  sub,
  tanh,
} from './ops/math';
export type { GemmOptions, Operand } from './ops/math';
export {
  avgPool2d,
  batchNormInference,
  conv2d,
  dropout,
  globalAvgPool,
  layerNorm,
  maxPool2d,
} from './ops/nn';
export type { Window2dOptions } from './ops/nn';
export { concat, flatten, reduceMean, reduceSum, reshape, slice, transpose } from './ops/shape-ops';
export { gradients } from './autodiff/gradients';
export { gradRules } from './autodiff/rules';
export type { GradContext, GradRule } from './autodiff/rule';
export { emitModel, IR_VERSION, OPSET_VERSION } from './onnx/emit';
export type { EmitOptions } from './onnx/emit';
export { buildLoss, targetSpec } from './losses/losses';
export type { LossSpec } from './losses/losses';
export { applyOptimizer, optimizerSlots, validateOptimizer } from './optim/optimizers';
export type { OptimizerSpec, StateSlot, UpdateInput } from './optim/optimizers';
export { scheduledLr, scheduledLrAt, validateSchedule } from './optim/schedule';
export type { ScheduleSpec } from './optim/schedule';
export type {
  BufferSpec,
  ForwardContext,
  InitKind,
  ModelDefinition,
  ParameterSpec,
} from './models/definition';
export { initModel, initParameter, SeededRandom } from './models/init';
export type { ModelValues } from './models/init';
export { activate, denseSpecs, mlp } from './models/mlp';
export type { Activation, MlpOptions } from './models/mlp';
export { smallCnn } from './models/cnn';
export type { CnnOptions } from './models/cnn';
export { batchNorm, batchNormSpecs } from './models/batch-norm';
export { buildTrainingGraph, names as trainingValueNames } from './runner/training-graph';
export type { TrainingGraphOptions } from './runner/training-graph';
export { Trainer } from './runner/trainer';
export type { Batch, TrainerOptions, TrainingSnapshot, TrainProgress } from './runner/trainer';
export { StackedMlpTrainer } from './runner/stacked-mlp-trainer';
export type { StackedMlpOptions } from './runner/stacked-mlp-trainer';
export { describeSignature, describeValues, ModelSignatureError, Predictor } from './runner/predictor';
export type { ModelSignature, ModelValueInfo, OutputKind, PredictorOptions } from './runner/predictor';
export {
  AUTO_ORDER,
  createSession,
  describeSelection,
  openOrtSession,
  ProviderUnavailableError,
  selectProvider,
} from './runner/providers';
export type {
  ConcreteProvider,
  EngineLogger,
  ExecutionProvider,
  ProviderSelection,
  SessionOpener,
  SessionOptions,
} from './runner/providers';
export { cpuReference, probeProvider } from './runner/provider-probe';
export type { ProbeOutcome } from './runner/provider-probe';
export {
  CUDA_PROVIDER_FILES,
  defaultProviderHost,
  diagnoseProviderFailure,
} from './runner/provider-diagnosis';
export type { ProviderHost } from './runner/provider-diagnosis';
export {
  buildInferenceGraph,
  exportInferenceModel,
  INFERENCE_INPUT,
  INFERENCE_LOGITS,
  INFERENCE_PROBABILITIES,
} from './export/inference-graph';
export {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from './checkpoint/checkpoint';
