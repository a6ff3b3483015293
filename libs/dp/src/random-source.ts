/**
 * Uniform randomness for the samplers: the OS CSPRNG by default, or an injected deterministic
 * source for reproducible tests. Never `Math.random` (predictable, and biased in low bits).
 */
import { createCipheriv, randomFillSync } from 'node:crypto';

/** A source of uniformly random bytes; must be cryptographically secure for real releases. */
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
 * A reproducible source for tests and simulations: the AES-128-CTR keystream under a key made
 * from `seed` and `domain` (its first 8 bytes), so two libraries seeded alike draw different
 * streams. Anyone who knows the seed can predict it, so never use it for a real release.
 */
export function seededRandom(seed: number, domain = 'fedistill-dp'): RandomSource {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0, 0);
  key.writeUInt32BE(Math.floor(seed / 2 ** 32) >>> 0, 4);
  key.write(domain, 8, 'latin1');
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
