/**
 * The two mask kinds of Bonawitz et al. (CCS 2017, §4): the pairwise mask PRG(s_uv) that site u
 * adds and site v subtracts (u < v) so it cancels in the sum, and the self mask PRG(b_u) that
 * protects u's input when the coordinator is told u dropped after all.
 */
import { x25519Agree } from './curve';
import { type MaskStream, deriveMaskKey } from './prg';

/** u's pairwise mask stream with v: added if u < v, subtracted otherwise (times `direction`). */
export function pairMask(
  roundId: string,
  u: number,
  v: number,
  maskSecretOfU: Uint8Array,
  maskPublicOfV: Uint8Array,
  direction: 1 | -1,
): MaskStream {
  const ids = [Math.min(u, v), Math.max(u, v)];
  const key = deriveMaskKey(x25519Agree(maskSecretOfU, maskPublicOfV), 'pair', roundId, ids);
  return { key, sign: ((u < v ? 1 : -1) * direction) as 1 | -1 };
}

/** Site u's self-mask stream from its seed b_u, added (`direction` = 1) or removed (-1). */
export function selfMask(roundId: string, u: number, seed: Uint8Array, direction: 1 | -1): MaskStream {
  return { key: deriveMaskKey(seed, 'self', roundId, [u]), sign: direction };
}

/** Reduces every entry mod 2^bits in place (a no-op for bits = 32, where Uint32Array already wraps). */
export function reduceToRing(target: Uint32Array, bits: number): void {
  if (bits >= 32) return;
  const mask = 2 ** bits - 1;
  for (let i = 0; i < target.length; i++) target[i] = (target[i] as number) & mask;
}

/**
 * Whether revealing the coordinator the self mask of `site` keeps its input hidden: at least one
 * of its neighbours must also survive, else all its pairwise masks would be removed through the
 * dropped neighbours' keys and its input would stand alone (Bell et al. CCS 2020, §3 requires the
 * surviving subgraph to stay connected; this is the local, checkable part of that condition).
 */
export function wouldIsolate(
  site: number,
  graph: ReadonlyMap<number, readonly number[]>,
  survivors: ReadonlySet<number>,
): boolean {
  return !(graph.get(site) ?? []).some((w) => survivors.has(w));
}
