/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import {
  cpuReference,
  PROBE_BIAS,
  PROBE_FILTERS,
  PROBE_INPUT,
  PROBE_WEIGHTS,
  probeTolerance,
} from './provider-probe';
import { openOrtSession } from './providers';

/** The probe worked out with plain loops: valid 3x3 convolution, ReLU, flatten (channel-major), dense. */
function byHand(): number[] {
  const conv: number[] = [];
  for (let c = 0; c < 2; c += 1)
    for (let i = 0; i < 2; i += 1)
      for (let j = 0; j < 2; j += 1) {
        let s = 0;
        for (let a = 0; a < 3; a += 1)
          for (let b = 0; b < 3; b += 1)
            s += PROBE_INPUT[(i + a) * 4 + (j + b)]! * PROBE_FILTERS[c * 9 + a * 3 + b]!;
        conv.push(Math.max(0, s));
      }
  return [0, 1, 2].map((k) => conv.reduce((s, v, r) => s + v * PROBE_WEIGHTS[r * 3 + k]!, PROBE_BIAS[k]!));
}

describe(cpuReference.name, () => {
  it('computes the probe as plain loops do, with values large enough to catch a wrong kernel', async () => {
    const want = byHand();
    const sut = Array.from(await cpuReference(openOrtSession));
    expect(sut).toHaveLength(3);
    sut.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    // A kernel returning zeros (or the bias alone) would be outside the tolerance.
    expect(want.some((v, i) => Math.abs(v - PROBE_BIAS[i]!) > probeTolerance(v) * 10)).toBe(true);
  });
});
