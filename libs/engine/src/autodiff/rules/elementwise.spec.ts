/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { checkGradient, spreadValues, testValues } from '../../testing/finite-difference';
import {
  add,
  div,
  exp,
  gelu,
  leakyRelu,
  log,
  mul,
  neg,
  relu,
  sigmoid,
  sqrt,
  sub,
  tanh,
} from '../../ops/math';
import type { Tensor } from '../../graph/tensor';

// Tolerances: inputs are O(1) and at most 24 output terms, so the float32 loss rounding
// error is below 24 * 6e-8 * 10 ~ 1.5e-5; divided by 2h = 0.02 that is < 1e-3, and the
// h^2 = 1e-4 truncation term with O(1) third derivatives adds ~2e-5. atol 2e-3 + 1% covers
// both; a wrong rule (a missing factor, a sign) is off by O(0.1..1).
const a = { shape: [2, 3, 4], values: testValues(24, 1) };
const b = { shape: [3, 1], values: testValues(3, 2) };
const positive = { shape: [2, 3, 4], values: testValues(24, 3).map((v) => 1.5 + v) };
const spread = { shape: [2, 3, 4], values: spreadValues(24, 4) };

const cases: [string, (p: Tensor[]) => Tensor, { shape: number[]; values: Float32Array }[]][] = [
  ['Add (broadcast)', ([x, y]) => add(x!, y!), [a, b]],
  ['Sub (broadcast)', ([x, y]) => sub(x!, y!), [a, b]],
  ['Mul (broadcast)', ([x, y]) => mul(x!, y!), [a, b]],
  [
    'Div (broadcast)',
    ([x, y]) => div(x!, y!),
    [a, { shape: [3, 1], values: Float32Array.from([1.5, -2, 2.5]) }],
  ],
  ['Neg', ([x]) => neg(x!), [a]],
  ['Relu', ([x]) => relu(x!), [spread]],
  ['LeakyRelu', ([x]) => leakyRelu(x!, 0.1), [spread]],
  ['Sigmoid', ([x]) => sigmoid(x!), [a]],
  ['Tanh', ([x]) => tanh(x!), [a]],
  ['Gelu', ([x]) => gelu(x!), [a]],
  ['Exp', ([x]) => exp(x!), [a]],
  ['Log', ([x]) => log(x!), [positive]],
  ['Sqrt', ([x]) => sqrt(x!), [positive]],
];

describe('element-wise gradient rules', () => {
  it.each(cases)('%s matches central finite differences', async (_name, build, params) => {
    const sut = await checkGradient(build, params);
    expect(sut.failures).toEqual([]);
    expect(sut.checked).toBeGreaterThan(0);
  });
});
