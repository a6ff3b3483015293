import * as path from 'node:path';
import { type Dataset, loadCsv, selectSamples } from '@fedistill/data';
import { partition } from '@fedistill/distill';
import { packedBytes } from '@fedistill/secagg';
import { dpFederatedAveraging } from './dp-fedavg';
import { dpFedAvgEpsilon } from './dp-fedavg-privacy';

const DATA = path.join(__dirname, '..', '..', '..', 'data', 'breast_cancer.csv');

describe(dpFederatedAveraging.name, () => {
  let sites: Dataset[];
  let test: Dataset;
  let reference: Dataset;

  beforeAll(async () => {
    const all = (await loadCsv(DATA, { skipLines: 1, header: false, label: -1, classes: 2 })).dataset;
    const [t, r, ...rest] = partition(all.labels, 5, { kind: 'iid' }, 11);
    test = selectSamples(all, t!);
    reference = selectSamples(all, r!);
    sites = rest.map((p) => selectSamples(all, p));
  });

  const base = {
    hidden: [16],
    rounds: 4,
    localEpochs: 2,
    batchSize: 16,
    clip: 2,
    delta: 1e-5,
    toleratedDropouts: 0,
    assumedColluders: 0,
    seed: 1,
    threads: 1,
  };

  it('learns through noisy secure sums and reports the epsilon it planned for', async () => {
    const rounds: number[] = [];
    const sut = await dpFederatedAveraging(sites, test, reference, {
      ...base,
      targetEpsilon: 50,
      onRound: (r) => rounds.push(r),
    });
    expect(rounds).toEqual([1, 2, 3, 4]);
    expect(sut.parameterCount).toBe(530);
    expect(sut.epsilon).toBeLessThanOrEqual(50);
    expect(sut.epsilon).toBeGreaterThan(49);
    const setup = { sites: 3, clip: 2, granularity: 2 / 1000, dimension: 530, assumedColluders: 0 };
    expect(sut.epsilon).toBe(dpFedAvgEpsilon(setup, sut.noiseMultiplier, 4, 1e-5));
    expect(sut.bytesPerSiteRound).toBe(packedBytes(530, sut.bits));
    expect(sut.rounds[3]!.accuracy).toBeGreaterThan(0.85);
  }, 30_000);

  it('loses the task to noise at a tiny epsilon', async () => {
    const sut = await dpFederatedAveraging(sites, test, reference, {
      ...base,
      rounds: 2,
      targetEpsilon: 0.05,
    });
    expect(sut.epsilon).toBeLessThanOrEqual(0.05);
    expect(sut.perSiteNoiseStddev).toBeGreaterThan(10 * base.clip);
    expect(sut.rounds[1]!.accuracy).toBeLessThan(0.85);
  }, 30_000);

  it('refuses bad options before training', async () => {
    const o = { ...base, targetEpsilon: 1 };
    await expect(dpFederatedAveraging(sites, test, reference, { ...o, noiseMultiplier: 1 })).rejects.toThrow(
      "give exactly one of 'targetEpsilon' and 'noiseMultiplier'",
    );
    await expect(dpFederatedAveraging(sites, test, reference, { ...o, rounds: 0 })).rejects.toThrow(
      "'rounds'",
    );
    await expect(dpFederatedAveraging(sites, test, reference, { ...o, clip: -1 })).rejects.toThrow("'clip'");
    await expect(dpFederatedAveraging(sites, test, reference, { ...o, bits: 8 })).rejects.toThrow(
      "'bits' 8 too small",
    );
  });
});
