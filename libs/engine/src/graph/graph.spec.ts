/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { gradients } from '../autodiff/gradients';
import { add, gemm, matmul, mul } from '../ops/math';
import { conv2d, maxPool2d } from '../ops/nn';
import { concat, reshape } from '../ops/shape-ops';
import { GraphBuildError, UnsupportedOpError } from './errors';
import { Graph } from './graph';

describe(Graph.name, () => {
  it('infers shapes through a small network, keeping the dynamic batch', () => {
    const sut = new Graph();
    const x = sut.input('x', 'float32', [null, 1, 8, 8]);
    const c = conv2d(x, sut.param('w', [4, 1, 3, 3]), null, { pads: [1, 1, 1, 1] });
    const p = maxPool2d(c, [2, 2]);
    expect(p.shape).toEqual([null, 4, 4, 4]);
    expect(reshape(p, [0, -1]).shape).toEqual([null, 64]);
  });

  it("finds a tensor's producer and readers, and removes only nodes nothing reads", () => {
    const sut = new Graph();
    const x = sut.input('x', 'float32', [2, 3]);
    const y = mul(x, 2);
    const z = add(y, 1);
    const node = sut.producer(y)!;
    expect(node.op).toBe('Mul');
    expect(sut.producer(x)).toBeUndefined();
    expect(sut.isRead(y)).toBe(true);
    expect(sut.isRead(z)).toBe(false);
    expect(() => sut.removeNode(node)).toThrow(/cannot remove Mul: '.*' is still read/);
    const zNode = sut.producer(z)!;
    sut.removeNode(zNode);
    expect(sut.nodes).not.toContain(zNode);
    expect(() => sut.removeNode(zNode)).toThrow(/not in this graph/);
  });

  it('rejects mismatched matrix shapes naming the op and the shapes', () => {
    const sut = new Graph();
    const a = sut.input('a', 'float32', [2, 3]);
    const b = sut.param('b', [4, 5]);
    expect(() => gemm(a, b)).toThrow(
      new GraphBuildError('Gemm', 'inner dimensions differ: A [2,3] and B [4,5]'),
    );
    expect(() => matmul(a, b)).toThrow(/^MatMul: inner dimensions differ/);
  });

  it('multiplies batched matrices and rejects batch axes that differ', () => {
    const sut = new Graph();
    const x = sut.input('x', 'float32', [null, 5, 3]);
    expect(matmul(x, sut.param('w', [4, 3, 2])).shape).toEqual([4, 5, 2]);
    expect(() => matmul(x, sut.param('v', [4, 2, 2]))).toThrow(/^MatMul: inner dimensions differ/);
    expect(() => matmul(sut.param('y', [3, 5, 3]), sut.param('u', [4, 3, 2]))).toThrow(
      new GraphBuildError('MatMul', 'batch axes differ: A [3,5,3] and B [4,3,2]'),
    );
    expect(() => matmul(sut.param('z', [5, 3]), sut.param('t', [4, 3, 2]))).toThrow(
      /^MatMul: input 'B' must be 2-D or have the rank of A/,
    );
  });

  it('rejects shapes that do not broadcast and mixed element types', () => {
    const sut = new Graph();
    const a = sut.input('a', 'float32', [2, 3]);
    expect(() => add(a, sut.input('b', 'float32', [4]))).toThrow(
      /^Add: shapes \[2,3\] and \[4\] do not broadcast/,
    );
    expect(() => mul(a, sut.input('i', 'int64', [2, 3]))).toThrow(
      /^Mul: element types differ: float32 and int64/,
    );
    expect(() => concat([a, sut.input('c', 'float32', [3, 3])], 1)).toThrow(/^Concat: shapes/);
  });

  it('rejects a conv whose channels do not match its input', () => {
    const sut = new Graph();
    const x = sut.input('x', 'float32', [1, 3, 8, 8]);
    expect(() => conv2d(x, sut.param('w', [4, 2, 3, 3]))).toThrow(/^Conv: channels differ/);
  });

  it('rejects an unsupported op type naming it', () => {
    const sut = new Graph();
    const x = sut.input('x', 'float32', [2]);
    expect(() => sut.apply('Hardmax', [x])).toThrow(UnsupportedOpError);
    expect(() => sut.apply('Hardmax', [x])).toThrow(/^Hardmax: op type is not supported/);
  });

  it('refuses to differentiate through an op without a gradient rule, naming it', () => {
    const sut = new Graph();
    const w = sut.param('w', [2]);
    const loss = sut.apply1('ReduceSum', [sut.apply1('Floor', [w]), null], { keepdims: { i: 0 } });
    expect(() => gradients(loss, [w])).toThrow(/^Floor: has no gradient rule/);
  });

  it('rejects duplicate names and tensors from another graph', () => {
    const sut = new Graph();
    sut.input('x', 'float32', [1]);
    expect(() => sut.input('x', 'float32', [1])).toThrow(/name 'x' is already used/);
    const other = new Graph().input('y', 'float32', [1]);
    expect(() => sut.apply('Relu', [other])).toThrow(/^Relu: input 'y' belongs to another graph/);
  });
});
