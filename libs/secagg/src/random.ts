/**
 * Randomness for the protocol: the OS CSPRNG by default, or an injected deterministic source so
 * tests can reproduce a run. One implementation, in @fedistill/dp; never `Math.random`.
 */
import { cryptoRandom, type RandomSource, seededRandom as seededStream } from '@fedistill/dp';

export { cryptoRandom, type RandomSource };

/**
 * A deterministic source for tests and reproducible simulations (AES-128-CTR under a key from
 * `seed`, in the secure-aggregation domain). Never a stand-in for `cryptoRandom` in a real round.
 */
export function seededRandom(seed: number): RandomSource {
  return seededStream(seed, '');
}

/** `n` fresh random bytes from `random`. */
export function randomBytes(random: RandomSource, n: number): Uint8Array {
  return random.fill(new Uint8Array(n));
}
