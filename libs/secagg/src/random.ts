/**
 * Randomness for the protocol: a cryptographically secure source by default, or an injected
 * deterministic one so tests can reproduce a run. Never `Math.random`.
 */
import { createCipheriv, randomFillSync } from 'node:crypto';

/** A source of uniformly random bytes. Implementations must be cryptographically secure in production. */
export interface RandomSource {
  /** Fills `out` with uniformly random bytes and returns it. */
  fill(out: Uint8Array): Uint8Array;
}

/** The operating system's CSPRNG (node:crypto `randomFillSync`). */
export const cryptoRandom: RandomSource = {
  fill(out: Uint8Array): Uint8Array {
    return randomFillSync(out);
  },
};

/**
 * A deterministic source for tests and reproducible simulations: the AES-128-CTR keystream
 * under a key derived from `seed` (an integer). It is a CSPRNG in construction, but anyone who
 * knows the seed can predict it, so it must never stand in for `cryptoRandom` in a real round.
 */
export function seededRandom(seed: number): RandomSource {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0, 0);
  key.writeUInt32BE(Math.floor(seed / 2 ** 32) >>> 0, 4);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return {
    fill(out: Uint8Array): Uint8Array {
      // 64 KiB at a time: one large output allocation costs more than the cipher (see prg.ts).
      for (let at = 0; at < out.length; at += CHUNK.length) {
        const n = Math.min(CHUNK.length, out.length - at);
        out.set(cipher.update(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n)), at);
      }
      return out;
    },
  };
}

const CHUNK = Buffer.alloc(64 * 1024);

/** `n` fresh random bytes from `random`. */
export function randomBytes(random: RandomSource, n: number): Uint8Array {
  return random.fill(new Uint8Array(n));
}
