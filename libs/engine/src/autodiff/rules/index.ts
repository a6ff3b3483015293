import type { GradRule } from '../rule';
import { convGrad } from './conv';
import { averagePoolGrad, globalAveragePoolGrad, maxPoolGrad } from './pool';
import { gemmGrad, matmulGrad } from './dense';
import {
  addGrad,
  divGrad,
  expGrad,
  geluGrad,
  identityGrad,
  leakyReluGrad,
  logGrad,
  mulGrad,
  negGrad,
  reluGrad,
  sigmoidGrad,
  sqrtGrad,
  subGrad,
  tanhGrad,
} from './elementwise';
import { dropoutGrad, layerNormGrad } from './norm';
import {
  concatGrad,
  expandGrad,
  reduceMaxGrad,
  reduceMeanGrad,
  reduceSumGrad,
  reshapeGrad,
  sliceGrad,
  transposeGrad,
} from './shape';
import { logSoftmaxGrad, softmaxGrad } from './softmax';

/**
 * The one table of gradient rules, by ONNX op type. Ops absent here (comparisons, Cast,
 * OneHot, Pow, Min, Max, ...) are not differentiable: differentiating through them fails
 * when the graph is built. BatchNormalization in training is built from differentiable
 * primitives (models/batch-norm.ts), so it needs no entry.
 */
export const gradRules: Readonly<Record<string, GradRule>> = {
  Add: addGrad,
  Sub: subGrad,
  Mul: mulGrad,
  Div: divGrad,
  Neg: negGrad,
  Identity: identityGrad,
  Relu: reluGrad,
  LeakyRelu: leakyReluGrad,
  Sigmoid: sigmoidGrad,
  Tanh: tanhGrad,
  Gelu: geluGrad,
  Exp: expGrad,
  Log: logGrad,
  Sqrt: sqrtGrad,
  Softmax: softmaxGrad,
  LogSoftmax: logSoftmaxGrad,
  Gemm: gemmGrad,
  MatMul: matmulGrad,
  Conv: convGrad,
  MaxPool: maxPoolGrad,
  AveragePool: averagePoolGrad,
  GlobalAveragePool: globalAveragePoolGrad,
  LayerNormalization: layerNormGrad,
  Dropout: dropoutGrad,
  Flatten: reshapeGrad,
  Reshape: reshapeGrad,
  Transpose: transposeGrad,
  Concat: concatGrad,
  Slice: sliceGrad,
  ReduceSum: reduceSumGrad,
  ReduceMean: reduceMeanGrad,
  ReduceMax: reduceMaxGrad,
  Expand: expandGrad,
};
