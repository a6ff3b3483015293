import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { exportInferenceModel, SeededRandom } from '@fedistill/engine';
import { DEFAULT_SCATTERING, scattering, scatteringOutputSize, type ScatteringOptions } from './scattering';
import { gaussianLowPass, morletWavelet, seriesCosSin, seriesExp } from './scattering-filters';

const NO_VALUES = { params: new Map<string, Float32Array>(), buffers: new Map<string, Float32Array>() };

/**
 * Zero-padded cross-correlation of an h x w map with a (2r+1)^2 kernel centred on every
 * `stride`-th pixel from (0, 0), in float64: a ceil(h / stride) x ceil(w / stride) map.
 */
function correlate(m: Plane, k: Float64Array, r: number, stride: number): Plane {
  const size = 2 * r + 1;
  const [h, w] = [Math.ceil(m.h / stride), Math.ceil(m.w / stride)];
  const v = new Float64Array(h * w);
  for (let i = 0; i < h; i += 1)
    for (let j = 0; j < w; j += 1) {
      let acc = 0;
      for (let a = 0; a < size; a += 1)
        for (let b = 0; b < size; b += 1) {
          const [y, x] = [i * stride + a - r, j * stride + b - r];
          if (y >= 0 && y < m.h && x >= 0 && x < m.w) acc += m.v[y * m.w + x]! * k[a * size + b]!;
        }
      v[i * w + j] = acc;
    }
  return { h, w, v };
}

interface Plane {
  readonly h: number;
  readonly w: number;
  readonly v: Float64Array;
}

/**
 * The scattering coefficients of one channel, from the definitions: the modulus after psi_j is
 * kept every 2^j pixels, where psi_j becomes psi_{j - r} and phi_J becomes phi_{J - r} on a grid
 * 2^r times coarser (see scattering.ts).
 */
function directScattering(x: Plane, o: ScatteringOptions): number[] {
  const J = o.scales;
  const lowPass = (u: Plane, res: number): number[] => {
    const phi = gaussianLowPass(J - res);
    return [...correlate(u, phi.values, phi.radius, 2 ** (J - res)).v];
  };
  const modulus = (u: Plane, k: number, l: number, stride: number): Plane => {
    const psi = morletWavelet(k, l, o.angles);
    const re = correlate(u, psi.re, psi.radius, stride);
    const im = correlate(u, psi.im, psi.radius, stride);
    return { ...re, v: re.v.map((v, i) => Math.hypot(v, im.v[i]!)) };
  };
  const out = lowPass(x, 0);
  const u1: Plane[][] = [];
  for (let j = 0; j < J; j += 1) {
    u1.push([]);
    for (let l = 0; l < o.angles; l += 1) {
      const u = modulus(x, j, l, 2 ** j);
      u1[j]!.push(u);
      out.push(...lowPass(u, j));
    }
  }
  if (o.order === 2)
    for (let j1 = 0; j1 < J; j1 += 1)
      for (let j2 = j1 + 1; j2 < J; j2 += 1)
        for (let l1 = 0; l1 < o.angles; l1 += 1)
          for (let l2 = 0; l2 < o.angles; l2 += 1)
            out.push(...lowPass(modulus(u1[j1]![l1]!, j2 - j1, l2, 2 ** (j2 - j1)), j2));
  return out;
}

async function runOnnx(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, dims) });
    return out['logits']!;
  } finally {
    await session.release();
  }
}

describe(scattering.name, () => {
  it.each<[string, ScatteringOptions, number[]]>([
    ['order 2, J = 2, L = 4, two channels', { scales: 2, angles: 4, order: 2 }, [2, 12, 10]],
    ['order 1, J = 1, L = 3, [H, W] input', { scales: 1, angles: 3, order: 1 }, [9, 7]],
    ['order 2, J = 3, L = 2, odd sides', { scales: 3, angles: 2, order: 2 }, [1, 11, 9]],
  ])('%s: the ONNX graph equals a direct computation', async (_name, options, inputShape) => {
    const sut = scattering(options, inputShape);
    const batch = 2;
    const per = inputShape.reduce((a, b) => a * b, 1);
    const rng = new SeededRandom(7);
    const x = Float32Array.from({ length: batch * per }, () => rng.next());
    const out = await runOnnx(exportInferenceModel(sut, NO_VALUES), x, [batch, ...inputShape]);
    expect(out.dims).toEqual([batch, scatteringOutputSize(options, inputShape)]);
    const [h, w] = inputShape.slice(-2) as [number, number];
    const expected: number[] = [];
    for (let c = 0; c < batch * (per / (h * w)); c += 1)
      expected.push(
        ...directScattering({ h, w, v: Float64Array.from(x.subarray(c * h * w, (c + 1) * h * w)) }, options),
      );
    const got = out.data as Float32Array;
    expect(got.length).toBe(expected.length);
    let worst = 0;
    expected.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i]! - v))));
    expect(worst).toBeLessThan(2e-6);
    // Not all near zero: the comparison is not vacuous.
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(0.1);
  });

  it('takes any batch size and transforms each record on its own (default options, 28 x 28)', async () => {
    const bytes = exportInferenceModel(scattering(DEFAULT_SCATTERING, [28, 28]), NO_VALUES);
    const rng = new SeededRandom(3);
    const x = Float32Array.from({ length: 3 * 784 }, () => rng.next());
    const three = await runOnnx(bytes, x, [3, 28, 28]);
    const one = await runOnnx(bytes, x.slice(784, 2 * 784), [1, 28, 28]);
    expect(three.dims).toEqual([3, 81 * 49]);
    expect(one.dims).toEqual([1, 81 * 49]);
    const row = (three.data as Float32Array).subarray(81 * 49, 2 * 81 * 49);
    expect(Array.from(one.data as Float32Array)).toEqual(Array.from(row));
    expect(Array.from(row).every(Number.isFinite)).toBe(true);
  });

  it('has no parameters or buffers and the documented output size', () => {
    const sut = scattering(DEFAULT_SCATTERING, [28, 28]);
    expect(sut.parameters).toEqual([]);
    expect(sut.buffers).toEqual([]);
    expect(sut.inputShape).toEqual([28, 28]);
    // Tramèr & Boneh (arXiv:2011.11660): 81 channels of 7 x 7 on 28 x 28.
    expect(sut.outputSize).toBe(81 * 7 * 7);
    expect(scatteringOutputSize(DEFAULT_SCATTERING, [1, 28, 28])).toBe(81 * 49);
    expect(scatteringOutputSize(DEFAULT_SCATTERING, [3, 32, 32])).toBe(3 * 81 * 64);
    expect(scatteringOutputSize({ scales: 3, angles: 6, order: 2 }, [28, 28])).toBe((1 + 18 + 36 * 3) * 16);
    expect(scatteringOutputSize({ scales: 2, angles: 8, order: 1 }, [28, 28])).toBe(17 * 49);
    expect(scatteringOutputSize({ scales: 1, angles: 8, order: 2 }, [5, 4])).toBe(9 * 3 * 2);
  });

  it('exports the same bytes on every build', () => {
    const digest = () =>
      createHash('sha256')
        .update(exportInferenceModel(scattering(DEFAULT_SCATTERING, [28, 28]), NO_VALUES))
        .digest('hex');
    expect(digest()).toBe(digest());
  });

  it.each<[string, ScatteringOptions, number[], RegExp]>([
    ['J < 1', { scales: 0, angles: 8, order: 2 }, [28, 28], /'scales' \(J\) must be an integer >= 1, got 0/],
    ['J not an integer', { scales: 1.5, angles: 8, order: 2 }, [28, 28], /'scales' \(J\) must be an integer/],
    [
      'J too large',
      { scales: 5, angles: 8, order: 2 },
      [28, 28],
      /J\) = 5 is too large for 28 x 28 images: 2\^J = 32/,
    ],
    ['J too large for one side', { scales: 3, angles: 8, order: 2 }, [1, 40, 7], /too large for 40 x 7/],
    ['L < 1', { scales: 2, angles: 0, order: 2 }, [28, 28], /'angles' \(L\) must be an integer >= 1, got 0/],
    ['order 3', { scales: 2, angles: 8, order: 3 as 2 }, [28, 28], /'order' must be 1 or 2, got 3/],
    [
      'rank 1',
      DEFAULT_SCATTERING,
      [784],
      /'inputShape' must be \[H, W\] or \[C, H, W\], got \[784\] \(rank 1\)/,
    ],
    ['rank 4', DEFAULT_SCATTERING, [1, 1, 28, 28], /rank 4/],
    ['a zero side', DEFAULT_SCATTERING, [0, 28], /must hold integers >= 1/],
  ])('refuses %s with a RangeError', (_name, options, inputShape, message) => {
    expect(() => scattering(options, inputShape)).toThrow(RangeError);
    expect(() => scattering(options, inputShape)).toThrow(message);
    expect(() => scatteringOutputSize(options, inputShape)).toThrow(message);
  });
});

describe('scattering filters', () => {
  it('gives Morlet wavelets of zero mean and a low-pass that sums to 1', () => {
    for (const [j, l, L] of [
      [0, 0, 8],
      [1, 3, 8],
      [2, 5, 6],
      [0, 0, 1],
    ] as const) {
      const psi = morletWavelet(j, l, L);
      const l1 = psi.re.reduce((a, v, i) => a + Math.hypot(v, psi.im[i]!), 0);
      expect(Math.abs(psi.re.reduce((a, v) => a + v, 0))).toBeLessThan(1e-12 * l1);
      expect(Math.abs(psi.im.reduce((a, v) => a + v, 0))).toBeLessThan(1e-12 * l1);
      expect(psi.size).toBe(2 * psi.radius + 1);
    }
    for (const J of [1, 2, 4]) {
      const phi = gaussianLowPass(J);
      expect(phi.values.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 12);
      expect(Math.min(...phi.values)).toBeGreaterThan(0);
    }
  });

  it('orients psi_{j,l} at theta = pi l / L: it responds most to the plane wave of its own angle', () => {
    // A Morlet wavelet is a band-pass centred on the frequency xi_j (cos theta, sin theta), xi_j =
    // 3 pi / 4 / 2^j: the magnitude of its inner product with exp(i xi_j u_theta) peaks at l.
    const L = 8;
    for (const j of [0, 1]) {
      const xi = (3 * Math.PI) / 4 / 2 ** j;
      for (const target of [0, 2, 5]) {
        const theta = (Math.PI * target) / L;
        const responses = Array.from({ length: L }, (_, l) => {
          const psi = morletWavelet(j, l, L);
          let [re, im] = [0, 0];
          for (let row = 0; row < psi.size; row += 1)
            for (let col = 0; col < psi.size; col += 1) {
              const [x, y] = [col - psi.radius, row - psi.radius];
              const phase = xi * (x * Math.cos(theta) + y * Math.sin(theta));
              const k = row * psi.size + col;
              re += psi.re[k]! * Math.cos(phase) + psi.im[k]! * Math.sin(phase);
              im += psi.im[k]! * Math.cos(phase) - psi.re[k]! * Math.sin(phase);
            }
          return Math.hypot(re, im);
        });
        expect(responses.indexOf(Math.max(...responses))).toBe(target);
      }
    }
  });

  it('computes exp, cos and sin by series that agree with Math to 1e-12', () => {
    for (let x = -60; x <= 0; x += 0.37) expect(Math.abs(seriesExp(x) / Math.exp(x) - 1)).toBeLessThan(1e-12);
    for (let x = -120; x <= 120; x += 0.29) {
      const [c, s] = seriesCosSin(x);
      expect(Math.abs(c - Math.cos(x))).toBeLessThan(1e-12);
      expect(Math.abs(s - Math.sin(x))).toBeLessThan(1e-12);
    }
  });

  it('are the same float32 bytes on every machine (the extractor digest depends on them)', () => {
    // Pinned: a change means every federation's scattering extractor gets a new digest.
    const hash = createHash('sha256');
    for (let j = 0; j < 2; j += 1)
      for (let l = 0; l < 8; l += 1) {
        const psi = morletWavelet(j, l, 8);
        hash.update(Float32Array.from(psi.re)).update(Float32Array.from(psi.im));
      }
    hash.update(Float32Array.from(gaussianLowPass(2).values));
    expect(hash.digest('hex')).toBe('f8a863564c98b527be07be51dfbfe0c92238baebf330b63085f859ec2802d91e');
  });
});
