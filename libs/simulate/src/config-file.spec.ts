import { parseSimulationConfig, SimulationConfigError } from './config-file';
import { releaseSpecOf } from './private-sum';

const minimal = {
  dataset: { name: 'digits' },
  sites: 5,
  teachers: { perSite: 2 },
  referenceSize: 200,
  queries: { perRound: 50 },
};

describe(parseSimulationConfig.name, () => {
  it('fills in defaults, the SecAgg threshold being a strict majority of the neighbours', () => {
    const sut = parseSimulationConfig(minimal);
    expect(sut.secureAggregation).toEqual({
      threshold: 3,
      neighbours: 'all',
      bits: 32,
      toleratedDropouts: 0,
    });
    expect(sut.privacy).toEqual({ kind: 'none' });
    expect(sut.partition).toEqual({ kind: 'iid' });
    expect(sut.rounds).toBe(1);
    expect(sut.student.hidden).toEqual([32]);
    const sparse = parseSimulationConfig({ ...minimal, sites: 10, secureAggregation: { neighbours: 4 } });
    expect(sparse.secureAggregation.threshold).toBe(3);
  });

  it('names the bad setting, from the schema or from a cross-field rule', () => {
    expect(() => parseSimulationConfig({ ...minimal, sites: 2.5 }, 'sim.yaml')).toThrow(
      /^sim\.yaml: sites: Invalid input: expected int/,
    );
    expect(() =>
      parseSimulationConfig({ ...minimal, privacy: { kind: 'skellam', noiseMultiplier: 1, delta: 0 } }),
    ).toThrow(/privacy\.delta: Too small/);
    expect(() => parseSimulationConfig({ ...minimal, rounds: 5 })).toThrow(
      "config: 'queries.perRound' x 'rounds' must not exceed 'referenceSize' (each input is asked once)",
    );
    expect(() => parseSimulationConfig({ ...minimal, secureAggregation: { toleratedDropouts: 2 } })).toThrow(
      SimulationConfigError,
    );
    expect(() => parseSimulationConfig('sites: 3')).toThrow(/\(top level\)/);
  });

  it("takes the noise plan's collusion assumption as the federation definition does, capped at n - T - 1", () => {
    const privacy = { kind: 'skellam', noiseMultiplier: 1, delta: 1e-5 };
    const noise = (assumedColluders?: number | 'all') =>
      releaseSpecOf(parseSimulationConfig({ ...minimal, privacy: { ...privacy, assumedColluders } }), 10, 2)
        .noise;
    expect(noise()?.assumedColluders).toBe(0);
    expect(noise(2)?.assumedColluders).toBe(2);
    expect(noise('all')?.assumedColluders).toBe(4);
    expect(noise(9)?.assumedColluders).toBe(4);
    expect(() =>
      parseSimulationConfig({ ...minimal, privacy: { ...privacy, assumedColluders: -1 } }),
    ).toThrow(/privacy\.assumedColluders: /);
  });

  it('reads the multi-round revisit and the least-confident strategy', () => {
    const sut = parseSimulationConfig({
      ...minimal,
      rounds: 3,
      revisit: { digestEpochs: 2 },
      queries: { perRound: 50, strategy: 'least-confident' },
    });
    expect(sut.revisit).toEqual({ digestEpochs: 2, localEpochs: 1 });
    expect(sut.queries.strategy).toBe('least-confident');
    expect(parseSimulationConfig(minimal).revisit).toBeUndefined();
    expect(() => parseSimulationConfig({ ...minimal, revisit: {} })).toThrow(
      "config: 'revisit' needs 'rounds' >= 2 (it acts between rounds)",
    );
    expect(() => parseSimulationConfig({ ...minimal, rounds: 2, revisit: { epochs: 1 } })).toThrow(
      /revisit: Unrecognized key/,
    );
    expect(() =>
      parseSimulationConfig({ ...minimal, queries: { perRound: 5, strategy: 'entropy' } }),
    ).toThrow(/queries\.strategy/);
  });
});
