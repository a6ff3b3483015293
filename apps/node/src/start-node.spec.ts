import { cryptoRandom, seededRandom } from '@fedistill/dp';
import { randomSource, TEST_NOISE_SEED_ENV } from './start-node';

const quiet = { warn: jest.fn() };
const draw = (r: { fill(out: Uint8Array): Uint8Array }) =>
  Buffer.from(r.fill(new Uint8Array(32))).toString('hex');

describe(randomSource.name, () => {
  it('is the OS CSPRNG unless told otherwise', () => {
    expect(randomSource({}, quiet, {})).toBe(cryptoRandom);
    expect(randomSource({}, quiet, { NODE_ENV: 'production', [TEST_NOISE_SEED_ENV]: '' })).toBe(cryptoRandom);
  });

  it('refuses a test noise seed outside the test suite, or one that is not a decimal seed', () => {
    // Predictable noise is no noise: a deployment with the variable set must not start.
    expect(() => randomSource({}, quiet, { [TEST_NOISE_SEED_ENV]: '7' })).toThrow(
      /FEDISTILL_TEST_NOISE_SEED is set \("7"\).*honoured only in the test suite/,
    );
    expect(() => randomSource({}, quiet, { NODE_ENV: 'production', [TEST_NOISE_SEED_ENV]: '7' })).toThrow(
      TEST_NOISE_SEED_ENV,
    );
    expect(() => randomSource({}, quiet, { NODE_ENV: 'test', [TEST_NOISE_SEED_ENV]: '7x' })).toThrow(
      TEST_NOISE_SEED_ENV,
    );
  });

  it('in the test suite, is the seeded source the simulator gives a node for the same seed, and says so', () => {
    const warn = jest.fn();
    const r = randomSource({}, { warn }, { NODE_ENV: 'test', [TEST_NOISE_SEED_ENV]: '701' });
    expect(draw(r)).toBe(draw(seededRandom(701)));
    expect(warn).toHaveBeenCalledWith({ seed: '701' }, expect.stringMatching(/TEST ONLY/));
  });

  it('takes the source a caller gives (the simulator) over the environment', () => {
    const given = seededRandom(3);
    expect(randomSource({ random: given }, quiet, { [TEST_NOISE_SEED_ENV]: '7' })).toBe(given);
  });
});
