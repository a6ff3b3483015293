/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import { Graph } from '@fedistill/engine';
import {
  buildFloorGraph,
  floorJson,
  floorOf,
  measureFloor,
  medianKernelTimes,
  type Product,
  stepProducts,
} from './kernel-floor';

const kernel = (name: string, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, dur });

describe(medianKernelTimes.name, () => {
  it("takes each named node's median kernel time and ignores other events and nodes", () => {
    const events = [
      kernel('a', 30),
      kernel('a', 10),
      kernel('a', 20),
      kernel('b', 5),
      kernel('b', 7),
      kernel('reorder', 1000),
      { cat: 'Node', name: 'a_fence_before', dur: 999 },
      { cat: 'Session', name: 'model_run', dur: 5000 },
    ];
    expect(medianKernelTimes(events, ['a', 'b'])).toEqual(
      new Map([
        ['a', 20],
        ['b', 6],
      ]),
    );
  });

  it('fails, naming the node, when a product has no kernel time (renamed or fused by ORT)', () => {
    expect(() => medianKernelTimes([kernel('a', 1)], ['a', 'gone'])).toThrow(/node 'gone'/);
  });
});

describe(floorOf.name, () => {
  it("sums each product's fastest formulation", () => {
    const products: Product[] = [
      {
        name: 'p',
        forms: [
          { name: 'x', build: () => null! },
          { name: 'y', build: () => null! },
        ],
      },
      { name: 'q', forms: [{ name: 'z', build: () => null! }] },
    ];
    const times = new Map([
      ['p0', 300],
      ['p1', 200],
      ['q0', 50],
    ]);
    const sut = floorOf(products, [['p0', 'p1'], ['q0']], times);
    expect(sut.step_ms).toBeCloseTo(0.25, 12);
    expect(sut.products).toEqual([
      { name: 'p', form: 'y', us: 200, forms: { x: 300, y: 200 } },
      { name: 'q', form: 'z', us: 50, forms: { z: 50 } },
    ]);
    expect(() => floorOf(products, [['p0'], ['q0']], times)).toThrow(/no kernel time for p \(y\)/);
  });
});

describe(floorJson.name, () => {
  const report = (stepMs: number) => ({
    step_ms: stepMs,
    samples_per_s: 128_000 / stepMs,
    peak_rss_kb: 1,
    products: [],
  });

  it('takes the fastest process and bounds the ratio to PyTorch by it', () => {
    const sut = floorJson([report(0.5), report(0.4), report(0.45)], 100_000, 160_000);
    expect(sut).toMatchObject({ step_ms: 0.4, samples_per_s: 320_000, step_ms_samples: [0.5, 0.4, 0.45] });
    expect(sut['ratio_ceiling']).toBe(3.2);
    expect(sut['engine_share']).toBe(0.5);
  });

  it('gives no ceiling without a PyTorch side, and refuses no reports', () => {
    expect(floorJson([report(1)], null, 1)['ratio_ceiling']).toBeNull();
    expect(() => floorJson([], 1, 1)).toThrow(/no kernel-floor reports/);
  });
});

describe('the step products', () => {
  it('are the MLP step: fc1 forward and weight gradient (no input gradient), fc2 all three', () => {
    const products = stepProducts('mlp', 128);
    expect(products.map((p) => p.name)).toEqual([
      'fc1 forward',
      'fc1 weight gradient',
      'fc2 forward',
      'fc2 weight gradient',
      'fc2 input gradient',
    ]);
    const g = new Graph();
    const names = buildFloorGraph(g, products);
    // Every formulation of a product gives the same output shape: [128, 256] for fc1 forward.
    const shapes = names[0]!.map(
      (n) => g.nodes.find((node) => node.outputs[0]!.name === n)!.outputs[0]!.shape,
    );
    expect(shapes).toEqual([
      [128, 256],
      [128, 256],
      [128, 256],
    ]);
    expect(new Set(names.flat()).size).toBe(names.flat().length);
  });

  it('are the CNN step: both convolutions, conv1 without its input gradient, both dense layers', () => {
    const names = stepProducts('cnn', 8).map((p) => p.name);
    expect(names).toContain('conv2 input gradient');
    expect(names).not.toContain('conv1 input gradient');
    expect(names).toContain('fc1 input gradient');
    expect(names).toHaveLength(11);
  });

  it('are measured from ONNX Runtime profile, every product found under its node name', async () => {
    const sut = await measureFloor({ model: 'cnn', batch: 4, threads: 1, runs: 2, spin: false });
    expect(sut.products.map((p) => p.name)).toEqual(stepProducts('cnn', 4).map((p) => p.name));
    for (const p of sut.products) expect(p.us).toBeGreaterThan(0);
    expect(sut.step_ms).toBeCloseTo(sut.products.reduce((s, p) => s + p.us, 0) / 1000, 3);
  });
});
