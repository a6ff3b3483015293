import * as audited from 'shamir-secret-sharing';
import { seededRandom } from './random';
import { shamirCombine, shamirSplit } from './shamir';

// Independent GF(2^8) multiplication (shift-and-add, AES polynomial), used to evaluate shares by hand.
function slowMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    const carry = a & 0x80;
    a = (a << 1) & 0xff;
    if (carry) a ^= 0x1b;
    b >>= 1;
  }
  return p;
}

function subsets<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  if (items.length < size) return [];
  const [head, ...rest] = items as [T, ...T[]];
  return [...subsets(rest, size - 1).map((s) => [head, ...s]), ...subsets(rest, size)];
}

describe('shamir', () => {
  const random = seededRandom(1);

  it('recovers the secret from every subset of exactly t shares', () => {
    const secret = random.fill(new Uint8Array(32));
    const shares = shamirSplit(secret, [1, 2, 3, 4, 5, 6], 4, random);
    for (const subset of subsets(shares, 4))
      expect(Buffer.from(shamirCombine(subset))).toEqual(Buffer.from(secret));
  });

  it('does not recover the secret from t-1 shares', () => {
    const secret = random.fill(new Uint8Array(32));
    const shares = shamirSplit(secret, [3, 9, 27], 3, random);
    expect(Buffer.from(shamirCombine(shares.slice(0, 2)))).not.toEqual(Buffer.from(secret));
  });

  it('evaluates a degree-1 polynomial that matches an independent field multiplication', () => {
    const secret = Uint8Array.of(0x53);
    const shares = shamirSplit(secret, [1, 2], 2, seededRandom(7));
    // y(x) = s + c*x, so c = y(1) - s and y(2) must be s + c*2 in GF(2^8).
    const c = (shares[0]!.y[0] as number) ^ 0x53;
    expect(shares[1]!.y[0]).toBe(0x53 ^ slowMul(c, 2));
  });

  // Cross-check against the audited `shamir-secret-sharing` package (same field and polynomial;
  // its shares carry x as their last byte): each side combines the other's shares.
  it('interoperates with the audited shamir-secret-sharing package in both directions', async () => {
    const secret = random.fill(new Uint8Array(32));
    const theirs = await audited.split(secret, 7, 4);
    const asOurs = theirs.map((s) => ({ x: s[32] as number, y: s.subarray(0, 32) }));
    expect(Buffer.from(shamirCombine(asOurs.slice(2, 6)))).toEqual(Buffer.from(secret));
    const ours = shamirSplit(secret, [3, 9, 27, 81, 243, 5, 7], 4, random);
    const asTheirs = ours.map((s) => Uint8Array.from([...s.y, s.x]));
    expect(Buffer.from(await audited.combine(asTheirs.slice(1, 5)))).toEqual(Buffer.from(secret));
  });

  it('rejects bad arguments by name', () => {
    expect(() => shamirSplit(new Uint8Array(1), [1, 2], 3, random)).toThrow("'threshold'");
    expect(() => shamirSplit(new Uint8Array(1), [0, 2], 2, random)).toThrow("'xs'");
    expect(() => shamirCombine([])).toThrow("'shares'");
  });
});
