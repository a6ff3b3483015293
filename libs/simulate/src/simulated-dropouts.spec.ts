import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { SimulationConfig } from './config';
import { runSimulation } from './run-simulation';

/** Five sites on the bundled breast-cancer data, tolerating one dropout. */
const config: SimulationConfig = {
  dataset: { name: 'breast-cancer' },
  sites: 5,
  partition: { kind: 'iid' },
  partitionSeed: 5,
  teachers: { perSite: 2, hidden: [8], epochs: 5, batchSize: 16 },
  student: { hidden: [8], epochs: 5, batchSize: 16 },
  referenceSize: 100,
  testFraction: 0.2,
  rounds: 2,
  queries: { perRound: 10, strategy: 'random' },
  summary: 'soft-labels',
  aggregation: { kind: 'mean' },
  privacy: { kind: 'skellam', noiseMultiplier: 1, clip: 1, delta: 1e-5 },
  secureAggregation: {
    threshold: 3,
    neighbours: 'all',
    bits: 32,
    toleratedDropouts: 1,
    dropouts: [
      { round: 1, site: 2, stage: 'input' },
      { round: 2, site: 0, stage: 'input' },
      { round: 2, site: 1, stage: 'unmask' },
    ],
  },
  seed: 5,
};

/**
 * Simulated dropouts are the nodes' own dropout drills (node.yaml drill, limited to the listed
 * rounds): a site silent before 'input' stops after sending its shares, one silent before
 * 'unmask' stops after sending its masked input.
 */
describe('runSimulation with dropouts', () => {
  let workspace = '';
  beforeAll(() => (workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-sim-dropouts-'))));
  afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }));

  it('drops the chosen sites in the chosen rounds through their nodes’ drills', async () => {
    const sut = await runSimulation(config, { workspace });
    const [one, two] = sut.rounds;
    // Round 1: site 2 stopped after its shares; the other four inputs are summed.
    expect(one!.abandoned).toBeNull();
    expect(one!.survivors).toEqual([0, 1, 3, 4]);
    expect(one!.bytesPerSite[2]).toBeLessThan(one!.bytesPerSite[0]!);
    expect(one!.epsilon).toBeGreaterThan(0);
    // Round 2: site 0 silent before its input and site 1 before unmasking.
    // Site 1 sent its input but then fell silent: each survivor's self-mask seed is held by
    // only two live neighbours (site 0 and site 1 are gone), below the threshold of 3.
    expect(two!.abandoned).toMatch(/fewer than 3 shares for: seed of site/);
    expect(two!.survivors).toEqual([]);
    // An abandoned round releases nothing and is not charged.
    expect(two!.epsilon).toBe(one!.epsilon);
    expect(sut.epsilon).toBe(one!.epsilon);
    const drill = (i: number) =>
      (
        parse(fs.readFileSync(path.join(workspace, 'sites', `site-${i + 1}`, 'node.yaml'), 'utf8')) as {
          drill?: unknown;
        }
      ).drill;
    expect([0, 1, 2, 3, 4].map(drill)).toEqual([
      { stopAfter: 'shares', rounds: [2] },
      { stopAfter: 'input', rounds: [2] },
      { stopAfter: 'shares', rounds: [1] },
      undefined,
      undefined,
    ]);
  }, 600_000);
});
