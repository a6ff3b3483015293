import type { Attrs } from '../graph/graph';
import type { Dim, DType, Tensor } from '../graph/tensor';
import {
  inferBinary,
  inferCast,
  inferCompare,
  inferIdentity,
  inferSoftmax,
  inferUnaryFloat,
  inferWhere,
} from './infer-elementwise';
import {
  inferBatchNorm,
  inferDropout,
  inferGemm,
  inferLayerNorm,
  inferMatMul,
  inferOneHot,
} from './infer-dense';
import {
  inferAveragePool,
  inferConv,
  inferConvTranspose,
  inferGlobalAveragePool,
  inferMaxPool,
  inferResize,
} from './infer-conv';
import {
  inferConcat,
  inferExpand,
  inferFlatten,
  inferPad,
  inferReduce,
  inferReshape,
  inferScatterElements,
  inferSlice,
  inferSplit,
  inferTranspose,
} from './infer-shape';

/** Type and shape of one node output. */
export interface OutputSpec {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

/** Checks a node's inputs and attributes and gives its outputs; throws GraphBuildError naming `op`. */
export type InferFn = (inputs: readonly (Tensor | null)[], attrs: Attrs, op: string) => OutputSpec[];

/** One supported op type. */
export interface OpSpec {
  readonly infer: InferFn;
}

/**
 * Every op type the graph builder accepts (ONNX standard domain, opset 17; see onnx/emit.ts), with its
 * shape and type rule. `Gelu` is the one engine-level op outside opset 17: it is emitted
 * as its Erf formula (see onnx/lower.ts). Gradient rules live in autodiff/rules.
 */
export const opSpecs: Readonly<Record<string, OpSpec>> = {
  Identity: { infer: inferIdentity },
  Relu: { infer: inferUnaryFloat },
  LeakyRelu: { infer: inferUnaryFloat },
  Sigmoid: { infer: inferUnaryFloat },
  Tanh: { infer: inferUnaryFloat },
  Gelu: { infer: inferUnaryFloat },
  Exp: { infer: inferUnaryFloat },
  Log: { infer: inferUnaryFloat },
  Neg: { infer: inferUnaryFloat },
  Sqrt: { infer: inferUnaryFloat },
  Reciprocal: { infer: inferUnaryFloat },
  Floor: { infer: inferUnaryFloat },
  Sign: { infer: inferUnaryFloat },
  Cos: { infer: inferUnaryFloat },
  Erf: { infer: inferUnaryFloat },
  Add: { infer: inferBinary },
  Sub: { infer: inferBinary },
  Mul: { infer: inferBinary },
  Div: { infer: inferBinary },
  Pow: { infer: inferBinary },
  Min: { infer: inferBinary },
  Max: { infer: inferBinary },
  Greater: { infer: inferCompare },
  Equal: { infer: inferCompare },
  Where: { infer: inferWhere },
  Cast: { infer: inferCast },
  Softmax: { infer: inferSoftmax },
  LogSoftmax: { infer: inferSoftmax },
  MatMul: { infer: inferMatMul },
  Gemm: { infer: inferGemm },
  OneHot: { infer: inferOneHot },
  BatchNormalization: { infer: inferBatchNorm },
  LayerNormalization: { infer: inferLayerNorm },
  Dropout: { infer: inferDropout },
  Conv: { infer: inferConv },
  ConvTranspose: { infer: inferConvTranspose },
  MaxPool: { infer: inferMaxPool },
  AveragePool: { infer: inferAveragePool },
  GlobalAveragePool: { infer: inferGlobalAveragePool },
  Flatten: { infer: inferFlatten },
  Reshape: { infer: inferReshape },
  Transpose: { infer: inferTranspose },
  Concat: { infer: inferConcat },
  Split: { infer: inferSplit },
  Slice: { infer: inferSlice },
  Pad: { infer: inferPad },
  Expand: { infer: inferExpand },
  ReduceSum: { infer: inferReduce },
  ReduceMean: { infer: inferReduce },
  ReduceMax: { infer: inferReduce },
  ScatterElements: { infer: inferScatterElements },
  Resize: { infer: inferResize },
};
