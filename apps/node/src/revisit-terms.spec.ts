import { revisitTerms } from './revisit-terms';
import { SiteDataError } from './site-data';

describe(revisitTerms.name, () => {
  it('reads the revisit section as the federation definition defines it', () => {
    expect(revisitTerms('fed', { revisit: { digestEpochs: 3, localEpochs: 2, learningRate: 0.01 } })).toEqual(
      {
        digestEpochs: 3,
        localEpochs: 2,
        learningRate: 0.01,
      },
    );
    expect(revisitTerms('fed', { revisit: { digestEpochs: 0, localEpochs: 1 } })).toEqual({
      digestEpochs: 0,
      localEpochs: 1,
      learningRate: 1e-3,
    });
  });

  it('is null for a federation without revisit', () => {
    expect(revisitTerms('fed', { labels: ['a', 'b'] })).toBeNull();
    expect(revisitTerms('fed', null)).toBeNull();
  });

  it('refuses terms it cannot act on, naming the field', () => {
    expect(() => revisitTerms('fed', { revisit: { digestEpochs: -1, localEpochs: 1 } })).toThrow(
      /federation 'fed': revisit.digestEpochs: /,
    );
    expect(() => revisitTerms('fed', { revisit: { digestEpochs: 0, localEpochs: 0 } })).toThrow(
      "federation 'fed': revisit: needs digestEpochs or localEpochs >= 1",
    );
    expect(() => revisitTerms('fed', { revisit: { digestEpochs: 1, localEpochs: 1, rate: 1 } })).toThrow(
      SiteDataError,
    );
    expect(() => revisitTerms('fed', { revisit: {} })).toThrow(/revisit.digestEpochs: /);
  });
});
