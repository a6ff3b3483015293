import type { Tensor } from '../graph/tensor';
import { GraphBuildError } from '../graph/errors';
import { div, log, logSoftmax, mul, neg, sub } from '../ops/math';
import { reduceMean, reduceSum } from '../ops/shape-ops';

/**
 * Training objectives. Targets per kind: `cross-entropy` int64 class indices [B];
 * `distillation` soft-target probabilities [B, K] (rows summing to 1), already at the same
 * temperature; `mse` float targets shaped like the model output [B, K].
 */
export type LossSpec =
  | { readonly kind: 'cross-entropy' }
  | {
      readonly kind: 'distillation';
      /** Softmax temperature T > 0 (Hinton et al. use 2..20). */ readonly temperature: number;
    }
  | { readonly kind: 'mse' };

/** Element type and per-sample shape of the targets a loss takes. */
export function targetSpec(
  spec: LossSpec,
  outputSize: number,
): { dtype: 'int64' | 'float32'; perSample: number[] } {
  return spec.kind === 'cross-entropy'
    ? { dtype: 'int64', perSample: [] }
    : { dtype: 'float32', perSample: [outputSize] };
}

/** Cross-entropy with hard labels: -log softmax(z)[y], per sample. */
function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const g = logits.graph;
  const k = logits.shape[1];
  if (typeof k !== 'number')
    throw new GraphBuildError('OneHot', `logits ${logits.describe()} need a static class count`);
  const oneHot = g.apply1('OneHot', [labels, g.int64s([k]), g.constant(new Float32Array([0, 1]), [2])]);
  return neg(reduceSum(mul(oneHot, logSoftmax(logits)), [1], false));
}

/**
 * Distillation loss (Hinton, Vinyals & Dean, arXiv:1503.02531, section 2): the KL divergence
 * KL(p || softmax(z / T)) between the soft targets p and the student's softened output,
 * multiplied by T^2 so that gradient magnitudes stay comparable across temperatures (the
 * soft-target gradients scale as 1 / T^2). The p log p term does not depend on the student
 * but is kept so the value is a true KL divergence (0 when the student matches); 0 log 0 = 0.
 */
function distillation(logits: Tensor, soft: Tensor, temperature: number): Tensor {
  if (!(temperature > 0)) throw new RangeError("'temperature' must be > 0");
  const g = logits.graph;
  const logQ = logSoftmax(div(logits, temperature));
  const positive = g.apply1('Greater', [soft, g.scalar(0)]);
  const plogp = g.apply1('Where', [positive, mul(soft, log(soft)), g.scalar(0)]);
  const kl = reduceSum(sub(plogp, mul(soft, logQ)), [1], false);
  return mul(kl, temperature * temperature);
}

/** Mean squared error over the output features, per sample. */
function mse(output: Tensor, target: Tensor): Tensor {
  const d = sub(output, target);
  return reduceMean(mul(d, d), [1], false);
}

/**
 * The scalar training loss: per-sample losses averaged, or with per-sample weights w [B],
 * sum(w_i l_i) / sum(w_i) (weights >= 0 with a positive sum; 0 excludes a sample).
 */
export function buildLoss(spec: LossSpec, output: Tensor, target: Tensor, weights: Tensor | null): Tensor {
  if (output.rank !== 2)
    throw new GraphBuildError('Loss', `model output must be [B, K], got ${output.describe()}`);
  const perSample =
    spec.kind === 'cross-entropy'
      ? crossEntropy(output, target)
      : spec.kind === 'distillation'
        ? distillation(output, target, spec.temperature)
        : mse(output, target);
  if (!weights) return reduceMean(perSample, undefined, false);
  return div(reduceSum(mul(perSample, weights), undefined, false), reduceSum(weights, undefined, false));
}
