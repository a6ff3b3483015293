import { MAX_NEIGHBOURS, neighbourGraph, type SecAggConfig, shareX, validateConfig } from './config';
import { simulateRound } from './simulate';

const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + i * 7);
const seed = new Uint8Array(32).fill(9);

/**
 * More than 255 sites in one round (issue 15). Shamir x-coordinates live in GF(2^8), but a site's
 * shares go only to its neighbours, so x only has to be distinct within one owner's
 * neighbourhood: x = the holder's position in the owner's neighbour list (config.ts, shareX).
 */
describe('rounds with more than 255 sites (k neighbours)', () => {
  it('sums 260 sites with k = 6 exactly, with dropouts before the shares and before the input', () => {
    const config: SecAggConfig = {
      roundId: 'many-sites',
      siteIds: ids(260),
      threshold: 4,
      neighbours: 6,
      bits: 32,
      maxInput: 1000,
      length: 3,
    };
    const inputs = new Map(config.siteIds.map((id, i) => [id, Uint32Array.from([i, 1, 1000 - (i % 1000)])]));
    // Spread out, so that no neighbourhood loses more than it tolerates.
    const drops = new Map<number, 'shares' | 'input'>([
      [config.siteIds[10]!, 'shares'],
      [config.siteIds[100]!, 'input'],
      [config.siteIds[200]!, 'input'],
    ]);
    const { outcome } = simulateRound(config, inputs, { drops });
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    const expected = [0, 0, 0];
    for (const [id, v] of inputs) if (!drops.has(id)) for (let j = 0; j < 3; j++) expected[j]! += v[j]!;
    expect([...outcome.sum]).toEqual(expected);
    expect(outcome.survivors).toHaveLength(257);
  });

  it('gives every share of one secret a distinct x in 1..k, whatever the number of sites', () => {
    const config: SecAggConfig = {
      roundId: 'x-coordinates',
      siteIds: ids(1000),
      threshold: 9,
      neighbours: 16,
      maxInput: 1,
      length: 1,
    };
    validateConfig(config);
    const graph = neighbourGraph(config, seed);
    for (const [owner, neighbours] of graph) {
      const xs = neighbours.map((holder) => shareX(graph, owner, holder));
      expect(xs).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    }
    expect(() => shareX(graph, config.siteIds[0]!, config.siteIds[0]!)).toThrow(/not a neighbour/);
  });

  it('refuses more than 255 neighbours per site (the full mesh of 257 sites), naming the fix', () => {
    const mesh = (n: number): SecAggConfig => ({
      roundId: 'mesh',
      siteIds: ids(n),
      threshold: Math.floor((n - 1) / 2) + 1,
      neighbours: 'all',
      maxInput: 1,
      length: 1,
    });
    expect(() => validateConfig(mesh(256))).not.toThrow();
    expect(() => validateConfig(mesh(257))).toThrow(
      new RegExp(`256 neighbours per site.*at most ${MAX_NEIGHBOURS} neighbours.*'neighbours' k`),
    );
  });
});
