import { type SecAggConfig, neighbourGraph, ringBits, validateConfig } from './config';

const base = (over: Partial<SecAggConfig> = {}): SecAggConfig => ({
  roundId: 'r1',
  siteIds: Array.from({ length: 10 }, (_, i) => i + 1),
  threshold: 6,
  neighbours: 'all',
  bits: 32,
  maxInput: 1000,
  length: 4,
  ...over,
});

describe('validateConfig', () => {
  it('accepts a sound configuration, with b = 32 by default', () => {
    expect(() => validateConfig(base())).not.toThrow();
    const { bits: _bits, ...rest } = base();
    expect(ringBits(rest)).toBe(32);
    // 10 sites x 2^29 > 2^32 - 1 is refused under the default ring too.
    expect(() => validateConfig({ ...rest, maxInput: 2 ** 29 })).toThrow("'maxInput' too large");
  });

  it('refuses a ring where sites x per-site bound cannot fit', () => {
    // 10 sites x 100 = 1000 > 2^8 - 1 = 255.
    expect(() => validateConfig(base({ bits: 8, maxInput: 100 }))).toThrow("'maxInput' too large");
    expect(() => validateConfig(base({ bits: 8, maxInput: 25 }))).not.toThrow();
  });

  it('requires a strict-majority threshold of the neighbourhood', () => {
    expect(() => validateConfig(base({ threshold: 4 }))).toThrow("'threshold'"); // 4 <= 9/2
    expect(() => validateConfig(base({ threshold: 10 }))).toThrow("'threshold'");
    expect(() => validateConfig(base({ neighbours: 4, threshold: 3 }))).not.toThrow();
    expect(() => validateConfig(base({ neighbours: 4, threshold: 2 }))).toThrow("'threshold'");
  });

  it('names other bad settings', () => {
    expect(() => validateConfig(base({ neighbours: 3 }))).toThrow("'neighbours'");
    expect(() => validateConfig(base({ bits: 33 }))).toThrow("'bits'");
    expect(() => validateConfig(base({ siteIds: [1, 1, 2] }))).toThrow("'siteIds'");
    expect(() => validateConfig(base({ roundId: '' }))).toThrow("'roundId'");
    expect(() => validateConfig(base({ minSurvivors: 11 }))).toThrow("'minSurvivors'");
  });
});

const seed1 = new Uint8Array(32).fill(1);

describe('neighbourGraph', () => {
  it('builds a symmetric k-regular graph, the same for every party', () => {
    const config = base({
      siteIds: Array.from({ length: 50 }, (_, i) => 100 + i),
      neighbours: 6,
      threshold: 4,
    });
    const graph = neighbourGraph(config, seed1);
    expect(neighbourGraph(config, seed1)).toEqual(graph);
    for (const [u, ns] of graph) {
      expect(ns).toHaveLength(6);
      expect(ns).not.toContain(u);
      for (const v of ns) expect(graph.get(v)).toContain(u);
    }
  });

  it('changes with the graph seed and is the full mesh for neighbours = all', () => {
    const config = base({ siteIds: Array.from({ length: 50 }, (_, i) => i), neighbours: 6, threshold: 4 });
    expect(neighbourGraph(config, new Uint8Array(32).fill(2))).not.toEqual(neighbourGraph(config, seed1));
    expect(neighbourGraph(base(), seed1).get(1)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(() => neighbourGraph(config, new Uint8Array(3))).toThrow("'graphSeed'");
  });
});
