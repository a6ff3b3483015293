import * as path from 'node:path';
import { type Dataset, loadCsv, selectSamples } from '@fedistill/data';
import { partition } from '@fedistill/distill';
import { federatedAveraging } from './fedavg';

const DATA = path.join(__dirname, '..', '..', '..', 'data', 'breast_cancer.csv');

describe(federatedAveraging.name, () => {
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

  it('learns the task across 3 sites and reports 4 bytes per parameter uploaded', async () => {
    const rounds: number[] = [];
    const sut = await federatedAveraging(sites, test, reference, {
      hidden: [16],
      rounds: 5,
      localEpochs: 2,
      batchSize: 16,
      seed: 1,
      threads: 1,
      onRound: (r) => rounds.push(r),
    });
    // 30 inputs -> 16 hidden -> 2 outputs: 30·16 + 16 + 16·2 + 2 = 530 parameters.
    expect(sut.parameterCount).toBe(530);
    expect(sut.bytesPerSiteRound).toBe(2120);
    expect(rounds).toEqual([1, 2, 3, 4, 5]);
    expect(sut.rounds[4]!.accuracy).toBeGreaterThan(0.92);
    expect(sut.rounds[4]!.accuracy).toBeGreaterThanOrEqual(sut.rounds[0]!.accuracy - 0.02);
  }, 30_000);

  it('refuses zero rounds or local epochs', async () => {
    const o = { hidden: [4], rounds: 1, localEpochs: 1, batchSize: 8, seed: 1 };
    await expect(federatedAveraging(sites, test, reference, { ...o, rounds: 0 })).rejects.toThrow("'rounds'");
    await expect(federatedAveraging(sites, test, reference, { ...o, localEpochs: 0 })).rejects.toThrow(
      "'localEpochs'",
    );
  });
});
