// The fixed filters of the 2-D scattering transform (scattering.ts): Morlet wavelets and the
// Gaussian low-pass, sampled in space.
//
// Construction (written here from the definitions, not ported): Bruna & Mallat, "Invariant
// scattering convolution networks" (IEEE TPAMI 2013, arXiv:1203.1513, sec. 3.1) define the
// Morlet wavelet as a Gabor function minus a multiple of its Gaussian envelope, the multiple
// chosen so that the wavelet has zero mean. The numerical choices are those of the Kymatio
// package (Andreux et al., arXiv:1812.11214), which Tramèr & Boneh (arXiv:2011.11660, sec. 3)
// used for their ScatterNet features:
//   scale j in [0, J):  sigma_j = 0.8 * 2^j,  xi_j = (3/4) * pi / 2^j,  slant s = 4 / L,
//   angle l in [0, L):  theta_l = pi * l / L (a half circle: for a real image the modulus of the
//                       response at theta + pi equals the one at theta),
//   low-pass phi_J:     a Gaussian of sigma = 0.8 * 2^(J - 1).
// With u = x cos(theta) + y sin(theta) (along the oscillation) and v = -x sin(theta) + y cos(theta),
//   gabor(x, y) = exp(-(u^2 + s^2 v^2) / (2 sigma^2)) * exp(i xi u) / (2 pi sigma^2 / s),
//   psi = gabor - beta * envelope,  beta = sum(gabor) / sum(envelope)  (complex),
// so each sampled psi sums to zero exactly (up to rounding), and phi is normalized to sum to 1.
// Unlike Kymatio, which builds periodized filters in the Fourier domain, the filters here are
// finite spatial kernels (used by ONNX Conv), truncated at three standard deviations of the
// envelope's longer axis: half-width r = ceil(3 sigma / min(1, s)). x is the column offset and
// y the row offset from the kernel's centre.
//
// Determinism: sites rebuild the extractor and compare its SHA-256 with the coordinator's, so the
// values depend on nothing but the indices (scale, angle, L). They are computed in float64 with
// +, -, *, / and Math.round alone, which IEEE 754 rounds the same way on every machine, then rounded
// to float32 once. exp, sin and cos are the series below, not Math.exp/sin/cos: V8 ships two
// implementations of sin and cos (fdlibm's and glibc's, chosen at build time), so two Node.js
// builds may differ in the last bit. scattering.spec.ts pins the bytes of the default bank.

/** One complex filter sampled on a (2r + 1) x (2r + 1) grid, row-major. */
export interface ComplexKernel {
  /** Half-width r: the kernel is `size` x `size` with size = 2r + 1, centred on (r, r). */
  readonly radius: number;
  readonly size: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

/** One real filter sampled on a (2r + 1) x (2r + 1) grid, row-major. */
export interface RealKernel {
  readonly radius: number;
  readonly size: number;
  readonly values: Float64Array;
}

const SIGMA0 = 0.8;
const XI0 = (3 * Math.PI) / 4;
/** Truncation of the envelope, in standard deviations of its longer axis. */
const TRUNCATION = 3;

/** e^x from the Taylor series of e^(x / 256), squared 8 times (relative error about 1e-13). */
export function seriesExp(x: number): number {
  const y = x / 256;
  let [term, sum] = [1, 1];
  for (let n = 1; n <= 24; n += 1) {
    term = (term * y) / n;
    sum += term;
  }
  for (let i = 0; i < 8; i += 1) sum *= sum;
  return sum;
}

/** [cos x, sin x] from Taylor series after reducing x by a multiple of pi / 2. */
export function seriesCosSin(x: number): [number, number] {
  const k = Math.round(x / (Math.PI / 2));
  const r = x - k * (Math.PI / 2);
  let [c, s, term] = [1, r, r];
  let cTerm = 1;
  for (let n = 1; n <= 12; n += 1) {
    cTerm = (-cTerm * r * r) / ((2 * n - 1) * (2 * n));
    term = (-term * r * r) / (2 * n * (2 * n + 1));
    c += cTerm;
    s += term;
  }
  const quadrant = ((k % 4) + 4) % 4;
  return quadrant === 0 ? [c, s] : quadrant === 1 ? [-s, c] : quadrant === 2 ? [-c, -s] : [s, -c];
}

/** The slant (minor / major axis ratio of the envelope) for L angles, as in Kymatio. */
export const slantFor = (angles: number): number => 4 / angles;

/** Half-width of a kernel whose envelope has standard deviation `sigma` and slant `slant`. */
export function kernelRadius(sigma: number, slant: number): number {
  return Math.ceil((TRUNCATION * sigma) / Math.min(1, slant));
}

/**
 * The Morlet wavelet psi_{j, theta_l} for a bank of `angles` orientations.
 * @param scale j >= 0 (dyadic scale 2^j).
 * @param angle l in [0, angles).
 */
export function morletWavelet(scale: number, angle: number, angles: number): ComplexKernel {
  if (!Number.isInteger(scale) || scale < 0) throw new RangeError("'scale' must be an integer >= 0");
  if (!Number.isInteger(angles) || angles < 1) throw new RangeError("'angles' must be an integer >= 1");
  if (!Number.isInteger(angle) || angle < 0 || angle >= angles)
    throw new RangeError(`'angle' must be an integer in [0, ${angles})`);
  const sigma = SIGMA0 * 2 ** scale;
  const xi = XI0 / 2 ** scale;
  const slant = slantFor(angles);
  const theta = (Math.PI * angle) / angles;
  const [c, s] = seriesCosSin(theta);
  const radius = kernelRadius(sigma, slant);
  const size = 2 * radius + 1;
  const norm = 1 / ((2 * Math.PI * sigma * sigma) / slant);
  const envelope = new Float64Array(size * size);
  const re = new Float64Array(size * size);
  const im = new Float64Array(size * size);
  let [sumEnv, sumRe, sumIm] = [0, 0, 0];
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) {
      const [x, y] = [col - radius, row - radius];
      const u = x * c + y * s;
      const v = -x * s + y * c;
      const e = norm * seriesExp(-(u * u + slant * slant * v * v) / (2 * sigma * sigma));
      const [cos, sin] = seriesCosSin(xi * u);
      const k = row * size + col;
      envelope[k] = e;
      re[k] = e * cos;
      im[k] = e * sin;
      sumEnv += e;
      sumRe += re[k];
      sumIm += im[k];
    }
  }
  // Subtracting beta * envelope removes the mean (the "Morlet correction"): sum(psi) = 0.
  const [betaRe, betaIm] = [sumRe / sumEnv, sumIm / sumEnv];
  for (let k = 0; k < size * size; k += 1) {
    re[k] = re[k]! - betaRe * envelope[k]!;
    im[k] = im[k]! - betaIm * envelope[k]!;
  }
  return { radius, size, re, im };
}

/** The Gaussian low-pass phi_J (sigma = 0.8 * 2^(J-1)), normalized to sum to 1. */
export function gaussianLowPass(scales: number): RealKernel {
  if (!Number.isInteger(scales) || scales < 1) throw new RangeError("'scales' must be an integer >= 1");
  const sigma = SIGMA0 * 2 ** (scales - 1);
  const radius = kernelRadius(sigma, 1);
  const size = 2 * radius + 1;
  const values = new Float64Array(size * size);
  let sum = 0;
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) {
      const [x, y] = [col - radius, row - radius];
      const v = seriesExp(-(x * x + y * y) / (2 * sigma * sigma));
      values[row * size + col] = v;
      sum += v;
    }
  }
  for (let k = 0; k < values.length; k += 1) values[k] = values[k]! / sum;
  return { radius, size, values };
}
