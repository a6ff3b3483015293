import { add, div, exp, mul, neg, sub } from '../../ops/math';
import { attrFloat } from '../../ops/shape-utils';
import { dY, type GradRule, inputOf, outputOf, unbroadcast } from '../rule';

// d(a+b) = da + db, summed back over broadcast axes.
export const addGrad: GradRule = (ctx) => [
  ctx.needed[0] ? unbroadcast('Add', dY(ctx), inputOf(ctx, 0)) : null,
  ctx.needed[1] ? unbroadcast('Add', dY(ctx), inputOf(ctx, 1)) : null,
];

export const subGrad: GradRule = (ctx) => [
  ctx.needed[0] ? unbroadcast('Sub', dY(ctx), inputOf(ctx, 0)) : null,
  ctx.needed[1] ? unbroadcast('Sub', neg(dY(ctx)), inputOf(ctx, 1)) : null,
];

// d(ab) = b da + a db.
export const mulGrad: GradRule = (ctx) => {
  const [a, b] = [inputOf(ctx, 0), inputOf(ctx, 1)];
  return [
    ctx.needed[0] ? unbroadcast('Mul', mul(dY(ctx), b), a) : null,
    ctx.needed[1] ? unbroadcast('Mul', mul(dY(ctx), a), b) : null,
  ];
};

// d(a/b) = da / b - (a/b) db / b.
export const divGrad: GradRule = (ctx) => {
  const [a, b, y] = [inputOf(ctx, 0), inputOf(ctx, 1), outputOf(ctx, 0)];
  return [
    ctx.needed[0] ? unbroadcast('Div', div(dY(ctx), b), a) : null,
    ctx.needed[1] ? unbroadcast('Div', neg(div(mul(dY(ctx), y), b)), b) : null,
  ];
};

export const negGrad: GradRule = (ctx) => [neg(dY(ctx))];

export const identityGrad: GradRule = (ctx) => [dY(ctx)];

// relu'(x) = 1 for x > 0, else 0 (the subgradient 0 at the kink, as PyTorch).
export const reluGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const pos = g.apply1('Greater', [inputOf(ctx, 0), g.scalar(0)]);
  return [g.apply1('Where', [pos, dY(ctx), g.scalar(0)])];
};

export const leakyReluGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const alpha = attrFloat(ctx.node.attrs, 'alpha', 0.01);
  const pos = g.apply1('Greater', [inputOf(ctx, 0), g.scalar(0)]);
  return [g.apply1('Where', [pos, dY(ctx), mul(dY(ctx), alpha)])];
};

// sigmoid' = y (1 - y).
export const sigmoidGrad: GradRule = (ctx) => {
  const y = outputOf(ctx, 0);
  return [mul(dY(ctx), mul(y, sub(1, y)))];
};

// tanh' = 1 - y^2.
export const tanhGrad: GradRule = (ctx) => {
  const y = outputOf(ctx, 0);
  return [mul(dY(ctx), sub(1, mul(y, y)))];
};

// GELU(x) = x Phi(x), so GELU'(x) = Phi(x) + x phi(x) with phi the standard normal density
// (Hendrycks & Gimpel, arXiv:1606.08415, section 2).
export const geluGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const x = inputOf(ctx, 0);
  const cdf = mul(add(g.apply1('Erf', [mul(x, Math.SQRT1_2)]), 1), 0.5);
  const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return [mul(dY(ctx), add(cdf, mul(x, pdf)))];
};

export const expGrad: GradRule = (ctx) => [mul(dY(ctx), outputOf(ctx, 0))];

export const logGrad: GradRule = (ctx) => [div(dY(ctx), inputOf(ctx, 0))];

// d sqrt(x) = dx / (2 sqrt(x)).
export const sqrtGrad: GradRule = (ctx) => [div(mul(dY(ctx), 0.5), outputOf(ctx, 0))];
