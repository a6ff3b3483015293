import type { Attrs } from '../graph/graph';
import type { Tensor } from '../graph/tensor';
import { GraphBuildError } from '../graph/errors';
import { broadcastShapes, normAxis, requireDtype } from './shape-utils';
import type { InferFn } from './specs';

type Inputs = readonly (Tensor | null)[];

/** Float unary ops keep shape and type. */
export const inferUnaryFloat: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'X');
  return [{ dtype: 'float32', shape: x.shape }];
};

/** Identity keeps shape and any type. */
export const inferIdentity: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32', 'int64', 'bool'], 'input');
  return [{ dtype: x.dtype, shape: x.shape }];
};

/** Binary arithmetic with broadcasting; both inputs share one element type. */
export const inferBinary: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const a = requireDtype(op, inputs[0], ['float32', 'int64'], 'A');
  const b = requireDtype(op, inputs[1], ['float32', 'int64'], 'B');
  if (a.dtype !== b.dtype) throw new GraphBuildError(op, `element types differ: ${a.dtype} and ${b.dtype}`);
  return [{ dtype: a.dtype, shape: broadcastShapes(op, a.shape, b.shape) }];
};

/** Comparison with broadcasting gives bool. */
export const inferCompare: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const [out] = inferBinary(inputs, attrs, op);
  return [{ dtype: 'bool', shape: out?.shape ?? [] }];
};

/** Where(cond, X, Y) with three-way broadcasting. */
export const inferWhere: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const c = requireDtype(op, inputs[0], ['bool'], 'condition');
  const x = requireDtype(op, inputs[1], ['float32', 'int64'], 'X');
  const y = requireDtype(op, inputs[2], ['float32', 'int64'], 'Y');
  if (x.dtype !== y.dtype) throw new GraphBuildError(op, `element types differ: ${x.dtype} and ${y.dtype}`);
  return [{ dtype: x.dtype, shape: broadcastShapes(op, broadcastShapes(op, c.shape, x.shape), y.shape) }];
};

/** Softmax / LogSoftmax along one axis. */
export const inferSoftmax: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'input');
  const axis = attrs['axis'];
  normAxis(op, axis && 'i' in axis ? axis.i : -1, x.rank);
  return [{ dtype: 'float32', shape: x.shape }];
};

/** Cast to the element type named by the `to` attribute (ONNX DataType code). */
export const inferCast: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32', 'int64', 'bool'], 'input');
  const to = attrs['to'];
  const code = to && 'i' in to ? to.i : -1;
  const dtype = code === 1 ? 'float32' : code === 7 ? 'int64' : code === 9 ? 'bool' : null;
  if (!dtype) throw new GraphBuildError(op, `unsupported target type code ${code}`);
  return [{ dtype, shape: x.shape }];
};
