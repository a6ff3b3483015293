// A 2-D scattering transform (Mallat 2012; Bruna & Mallat, arXiv:1203.1513) as a fixed ONNX
// graph: every filter is a graph constant, so the extractor has no parameters, reads no data and
// costs no privacy (Tramèr & Boneh, arXiv:2011.11660, use J = 2, L = 8, order 2: 81 channels of
// 7 x 7 on 28 x 28 images). The filters are built in scattering-filters.ts.
import {
  add,
  concat,
  conv2d,
  type ForwardContext,
  type Graph,
  type ModelDefinition,
  mul,
  reshape,
  slice,
  sqrt,
  type Tensor,
} from '@fedistill/engine';
import { gaussianLowPass, morletWavelet, type RealKernel } from './scattering-filters';

/** Options of {@link scattering}. */
export interface ScatteringOptions {
  /** J >= 1: wavelet scales 2^0 .. 2^(J-1); the output is subsampled by 2^J. */
  readonly scales: number;
  /** L >= 1: orientations per scale, theta = pi * l / L. */
  readonly angles: number;
  /** Highest order of scattering coefficients: 1 or 2. */
  readonly order: 1 | 2;
}

/** Tramèr & Boneh's ScatterNet setting (arXiv:2011.11660, sec. 3): J = 2, L = 8, order 2. */
export const DEFAULT_SCATTERING: ScatteringOptions = { scales: 2, angles: 8, order: 2 };

/**
 * Added under the square root of the complex modulus, sqrt(re^2 + im^2 + TINY), so that the graph
 * stays finite and differentiable at 0; it moves a modulus by at most sqrt(TINY) = 1e-6.
 */
export const MODULUS_EPSILON = 1e-12;

interface Geometry {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Output side lengths: ceil(H / 2^J), ceil(W / 2^J). */
  readonly outHeight: number;
  readonly outWidth: number;
  /** Scattering paths per input channel: 1 + J L (+ L^2 J (J - 1) / 2 at order 2). */
  readonly paths: number;
}

/** Checks the options and the per-record input shape; throws RangeError naming the problem. */
function geometry(o: ScatteringOptions, inputShape: readonly number[]): Geometry {
  if (!Number.isInteger(o.scales) || o.scales < 1)
    throw new RangeError(`'scales' (J) must be an integer >= 1, got ${o.scales}`);
  if (!Number.isInteger(o.angles) || o.angles < 1)
    throw new RangeError(`'angles' (L) must be an integer >= 1, got ${o.angles}`);
  if (o.order !== 1 && o.order !== 2) throw new RangeError(`'order' must be 1 or 2, got ${String(o.order)}`);
  if (inputShape.length !== 2 && inputShape.length !== 3)
    throw new RangeError(
      `'inputShape' must be [H, W] or [C, H, W], got [${inputShape.join(', ')}] (rank ${inputShape.length})`,
    );
  if (inputShape.some((d) => !Number.isInteger(d) || d < 1))
    throw new RangeError(`'inputShape' [${inputShape.join(', ')}] must hold integers >= 1`);
  const [channels, height, width] = inputShape.length === 3 ? inputShape : [1, ...inputShape];
  const step = 2 ** o.scales;
  if (step > Math.min(height!, width!))
    throw new RangeError(
      `'scales' (J) = ${o.scales} is too large for ${height} x ${width} images: 2^J = ${step} must be at most ${Math.min(height!, width!)}`,
    );
  const [J, L] = [o.scales, o.angles];
  return {
    channels: channels!,
    height: height!,
    width: width!,
    outHeight: Math.ceil(height! / step),
    outWidth: Math.ceil(width! / step),
    paths: 1 + J * L + (o.order === 2 ? (L * L * J * (J - 1)) / 2 : 0),
  };
}

/** Values per record of {@link scattering}'s output: C (1 + JL + L^2 J(J-1)/2) ceil(H/2^J) ceil(W/2^J). */
export function scatteringOutputSize(options: ScatteringOptions, inputShape: readonly number[]): number {
  const g = geometry(options, inputShape);
  return g.channels * g.paths * g.outHeight * g.outWidth;
}

/**
 * The scattering transform as a ModelDefinition with no parameters and no buffers: input
 * [B, ...inputShape] (inputShape [H, W] or [C, H, W]), output [B, outputSize], per record the
 * coefficients in the order (channel c, path, row, column), the paths in the order
 *   order 0:  x * phi_J,
 *   order 1:  |x * psi_{j,l}| * phi_J                      for j in [0, J), l in [0, L),
 *   order 2:  ||x * psi_{j1,l1}| * psi_{j2,l2}| * phi_J    for j1 < j2 (pairs in lexicographic
 *             order), then l1, then l2,
 * each sampled every 2^J pixels from (0, 0). As in Kymatio (arXiv:1812.11214), each modulus is
 * kept at the resolution of its wavelet: |x * psi_j1| every 2^j1 pixels, ||x * psi_j1| * psi_j2|
 * every 2^j2, and the next filter runs on that coarser grid. A filter on a grid 2^r times coarser
 * is the same family at index k - r: psi_j sampled every 2^r pixels is 4^-r psi_{j-r} (sigma and
 * 1/xi halve with each step; 4^r is the area of one coarse pixel) up to the zero-mean correction,
 * fitted on each grid (for L = 8: within 1% of the peak value), and likewise phi_J becomes
 * phi_{J-r}. Each convolution computes only the samples it keeps (a strided Conv).
 * `*` is ONNX Conv (a cross-correlation) with zero padding of the filter's half-width on every
 * side, and a stride where the map is subsampled: Fashion-MNIST and MNIST have zero backgrounds,
 * where zero and reflect padding agree; on images with a bright border, the outer ring of
 * coefficients also sees the border's edge. Channels are transformed independently (folded into
 * the batch), as Kymatio does.
 * @throws RangeError for J or L not integers >= 1, 2^J larger than the image side, an order other
 *   than 1 or 2, or an input shape that is not [H, W] or [C, H, W] of positive integers.
 */
export function scattering(options: ScatteringOptions, inputShape: readonly number[]): ModelDefinition {
  const geo = geometry(options, inputShape);
  const o = { ...options };
  const shape = [...inputShape];
  return {
    inputShape: shape,
    outputSize: geo.channels * geo.paths * geo.outHeight * geo.outWidth,
    parameters: [],
    buffers: [],
    forward(_ctx: ForwardContext, x: Tensor): Tensor {
      return scatteringGraph(o, geo, x);
    },
  };
}

function scatteringGraph(o: ScatteringOptions, geo: Geometry, x: Tensor): Tensor {
  const J = o.scales;
  const L = o.angles;
  const g = x.graph;
  // Each filter becomes one constant, created on first use; the order of first uses is fixed, so
  // constant names and bytes repeat from build to build.
  const wavelets = new Map<number, (u: Tensor, groups: number, stride: number) => Tensor>();
  const lowPasses = new Map<number, (u: Tensor, groups: number, stride: number) => Tensor>();
  const psi = (k: number) => cached(wavelets, k, () => waveletModulus(g, k, L));
  const phi = (k: number) => cached(lowPasses, k, () => lowPass(g, k));
  const x0 = reshape(x, [-1, 1, geo.height, geo.width]); // [B C, 1, H, W]
  const parts: Tensor[] = [phi(J)(x0, 1, 2 ** J)];
  // U1[j1] = |x * psi_j1| at resolution 2^j1: [B C, L, ceil(H / 2^j1), ceil(W / 2^j1)].
  const u1 = Array.from({ length: J }, (_, j1) => psi(j1)(x0, 1, 2 ** j1));
  u1.forEach((u, j1) => parts.push(phi(J - j1)(u, L, 2 ** (J - j1))));
  if (o.order === 2)
    u1.forEach((u, j1) => {
      for (let j2 = j1 + 1; j2 < J; j2 += 1) {
        const u2 = psi(j2 - j1)(u, L, 2 ** (j2 - j1)); // [B C, L L, ...] at resolution 2^j2
        parts.push(phi(J - j2)(u2, L * L, 2 ** (J - j2)));
      }
    });
  return reshape(concat(parts, 1), [-1, geo.channels * geo.paths * geo.outHeight * geo.outWidth]);
}

function cached<T>(map: Map<number, T>, key: number, make: () => T): T {
  const hit = map.get(key);
  if (hit) return hit;
  const made = make();
  map.set(key, made);
  return made;
}

/** Spatial side lengths of a [M, G, h, w] tensor (static in this graph). */
function sides(u: Tensor): [number, number] {
  const [h, w] = u.shape.slice(2);
  if (typeof h !== 'number' || typeof w !== 'number')
    throw new RangeError(`scattering maps must have static sides, got ${u.describe()}`);
  return [h, w];
}

/**
 * The complex modulus |u * psi_{k,l}| for the L angles l on each of u's G maps, sampled every
 * `stride` pixels: [M, G, h, w] -> [M, G L, ceil(h / stride), ceil(w / stride)].
 */
function waveletModulus(g: Graph, k: number, L: number) {
  const kernels = Array.from({ length: L }, (_, l) => morletWavelet(k, l, L));
  const { size, radius } = kernels[0]!;
  // Output channels [re of l = 0..L-1, im of l = 0..L-1], so that two slices split them.
  const w = new Float32Array(2 * L * size * size);
  kernels.forEach((kernel, l) => {
    w.set(kernel.re, l * size * size);
    w.set(kernel.im, (L + l) * size * size);
  });
  const weight = g.constant(w, [2 * L, 1, size, size]);
  return (u: Tensor, groups: number, stride: number): Tensor => {
    const [h, wd] = sides(u);
    const y = conv(reshape(u, [-1, 1, h, wd]), weight, stride, radius); // [M G, 2L, h', w']
    const [h2, w2] = sides(y);
    const z = reshape(y, [-1, groups, 2 * L, h2 * w2]);
    const re = slice(z, [0], [L], [2]);
    const im = slice(z, [L], [2 * L], [2]);
    const modulus = sqrt(add(add(mul(re, re), mul(im, im)), g.scalar(MODULUS_EPSILON)));
    return reshape(modulus, [-1, groups * L, h2, w2]);
  };
}

/** phi_k on each of u's G maps, sampled every `stride` pixels: [M, G, h, w] -> [M, G, h', w']. */
function lowPass(g: Graph, k: number) {
  const kernel: RealKernel = gaussianLowPass(k);
  const weight = g.constant(Float32Array.from(kernel.values), [1, 1, kernel.size, kernel.size]);
  return (u: Tensor, groups: number, stride: number): Tensor => {
    const [h, w] = sides(u);
    const y = conv(reshape(u, [-1, 1, h, w]), weight, stride, kernel.radius);
    const [h2, w2] = sides(y);
    return reshape(y, [-1, groups, h2, w2]);
  };
}

/** ONNX Conv with a square stride and `pad` zeros on every side. */
function conv(x: Tensor, w: Tensor, stride: number, pad: number): Tensor {
  return conv2d(x, w, null, { strides: [stride, stride], pads: [pad, pad, pad, pad] });
}
