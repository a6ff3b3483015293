import type { Tensor } from '../graph/tensor';

/** Options of a 2-D conv or pool window. */
export interface Window2dOptions {
  /** Stride per spatial axis (default 1, or the kernel for pools). */
  readonly strides?: readonly [number, number];
  /** Zero padding [top, left, bottom, right] (default none). */
  readonly pads?: readonly [number, number, number, number];
}

/** 2-D convolution: x [N,C,H,W], w [M,C,kh,kw], optional bias [M]. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, o: Window2dOptions = {}): Tensor {
  return x.graph.apply1('Conv', [x, w, b], {
    strides: { ints: o.strides ?? [1, 1] },
    pads: { ints: o.pads ?? [0, 0, 0, 0] },
  });
}

/** 2-D max pooling with a `kernel` window (stride defaults to the kernel). */
export function maxPool2d(x: Tensor, kernel: readonly [number, number], o: Window2dOptions = {}): Tensor {
  // Only Y is kept in the forward graph; the gradient rule adds a MaxPool with Indices.
  return x.graph.apply1('MaxPool', [x], poolAttrs(kernel, o), 1);
}

/** 2-D average pooling (padding counts as zeros). */
export function avgPool2d(x: Tensor, kernel: readonly [number, number], o: Window2dOptions = {}): Tensor {
  return x.graph.apply1('AveragePool', [x], { ...poolAttrs(kernel, o), count_include_pad: { i: 1 } });
}

/** Mean over the spatial axes: [N,C,H,W] to [N,C,1,1]. */
export function globalAvgPool(x: Tensor): Tensor {
  return x.graph.apply1('GlobalAveragePool', [x]);
}

function poolAttrs(kernel: readonly [number, number], o: Window2dOptions) {
  return {
    kernel_shape: { ints: kernel },
    strides: { ints: o.strides ?? kernel },
    pads: { ints: o.pads ?? [0, 0, 0, 0] },
  };
}

/** Layer normalization over the axes from `axis` on (Ba et al., arXiv:1607.06450, eq. 4). */
export function layerNorm(x: Tensor, scale: Tensor, bias: Tensor | null, axis = -1, epsilon = 1e-5): Tensor {
  return x.graph.apply1('LayerNormalization', [x, scale, bias], {
    axis: { i: axis },
    epsilon: { f: epsilon },
  });
}

/**
 * Inverted dropout in training mode: zeroes each value with probability `ratio` and scales the
 * rest by 1/(1-ratio) (Srivastava et al. 2014). The mask comes from ORT's seeded generator.
 */
export function dropout(x: Tensor, ratio: number, seed: number): Tensor {
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError("'ratio' must be in [0, 1)");
  const g = x.graph;
  const on = g.constant(new Uint8Array([1]), []);
  const [y] = g.apply('Dropout', [x, g.scalar(ratio), on], { seed: { i: seed } });
  return y!;
}

/** Batch normalization with fixed statistics (the inference form, no gradient rule). */
export function batchNormInference(
  x: Tensor,
  scale: Tensor,
  bias: Tensor,
  mean: Tensor,
  variance: Tensor,
  epsilon = 1e-5,
): Tensor {
  return x.graph.apply1('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { f: epsilon } });
}
