import { exp, mul, sub } from '../../ops/math';
import { reduceSum } from '../../ops/shape-ops';
import { attrInt } from '../../ops/shape-utils';
import { dY, type GradRule, outputOf } from '../rule';

// Softmax Jacobian-vector product: dx = y * (dy - sum(dy * y)) along the softmax axis.
export const softmaxGrad: GradRule = (ctx) => {
  const y = outputOf(ctx, 0);
  const axis = attrInt(ctx.node.attrs, 'axis', -1);
  return [mul(y, sub(dY(ctx), reduceSum(mul(dY(ctx), y), [axis])))];
};

// Log-softmax: dx = dy - softmax(x) * sum(dy), with softmax(x) = exp(y).
export const logSoftmaxGrad: GradRule = (ctx) => {
  const y = outputOf(ctx, 0);
  const axis = attrInt(ctx.node.attrs, 'axis', -1);
  return [sub(dY(ctx), mul(exp(y), reduceSum(dY(ctx), [axis])))];
};
