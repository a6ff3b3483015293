import { GraphBuildError } from '../../graph/errors';
import { add, div, mul, sqrt, sub } from '../../ops/math';
import { reduceMean, reduceSum } from '../../ops/shape-ops';
import { attrFloat, attrInt, normAxis } from '../../ops/shape-utils';
import { dY, type GradRule, inputOf } from '../rule';

// LayerNormalization (Ba et al., arXiv:1607.06450): with xhat = (x - mean) * r,
// r = 1 / sqrt(var + eps) over the normalized axes and g = dY * scale,
// dx = r * (g - mean(g) - xhat * mean(g * xhat)); dscale = sum(dY * xhat), dB = sum(dY)
// over the leading axes. Statistics are recomputed here rather than read from the op's
// optional outputs so the forward node stays the plain inference form.
export const layerNormGrad: GradRule = (ctx) => {
  const x = inputOf(ctx, 0);
  const scale = inputOf(ctx, 1);
  const axis = normAxis('LayerNormalization', attrInt(ctx.node.attrs, 'axis', -1), x.rank);
  const eps = attrFloat(ctx.node.attrs, 'epsilon', 1e-5);
  const normAxes = x.shape.map((_, i) => i).filter((i) => i >= axis);
  const leadAxes = x.shape.map((_, i) => i).filter((i) => i < axis);
  const centered = sub(x, reduceMean(x, normAxes));
  const r = div(1, sqrt(add(reduceMean(mul(centered, centered), normAxes), eps)));
  const xhat = mul(centered, r);
  const d = dY(ctx);
  const gs = mul(d, scale);
  const dx = ctx.needed[0]
    ? mul(r, sub(sub(gs, reduceMean(gs, normAxes)), mul(xhat, reduceMean(mul(gs, xhat), normAxes))))
    : null;
  const sumLead = (t: Parameters<typeof reduceSum>[0]) =>
    leadAxes.length > 0 ? reduceSum(t, leadAxes, false) : t;
  const dscale = ctx.needed[1] ? sumLead(mul(d, xhat)) : null;
  const db = ctx.node.inputs[2] && ctx.needed[2] ? sumLead(d) : null;
  return [dx, dscale, db];
};

// Inverted dropout: y = x * mask / (1 - p), so dx = dY * mask / (1 - p), reusing the mask
// the forward node drew.
export const dropoutGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const mask = ctx.node.outputs[1];
  if (!mask) throw new GraphBuildError('Dropout', 'gradient needs the mask output');
  const ratioIn = ctx.node.inputs[1];
  const ratio = ratioIn ? g.constants.get(ratioIn.name)?.data[0] : 0.5;
  if (typeof ratio !== 'number') throw new GraphBuildError('Dropout', "gradient needs a constant 'ratio'");
  const m = g.apply1('Cast', [mask], { to: { i: 1 } });
  return [mul(mul(dY(ctx), m), 1 / (1 - ratio)), null, null];
};
