/**
 * Unmasking at the coordinator (Bonawitz et al. CCS 2017, §4, round 4, server side): from the
 * masked sum, remove each survivor's self mask PRG(b_u) and, for each dropped site v, the
 * pairwise masks PRG(s_uv) that its surviving neighbours added, using v's mask secret rebuilt
 * from t shares. The pairwise masks among survivors cancel by construction.
 */
import { type SecAggConfig, ringBits, shareX } from './config';
import type { CoordinatorState } from './coordinator-state';
import { bytesEqual } from './bytes';
import { x25519PublicKey } from './curve';
import { pairMask, reduceToRing, selfMask } from './masks';
import { type MaskStream, applyMasks } from './prg';
import type { SecAggOutcome } from './coordinator';
import { type Share, shamirCombine } from './shamir';

/**
 * Computes the outcome of a round whose unmask responses are in. Unmasks `state.maskedSum` in
 * place (the caller discards it either way) to avoid copying d words.
 */
export function reconstructSum(
  config: SecAggConfig,
  graph: ReadonlyMap<number, readonly number[]>,
  state: CoordinatorState,
): SecAggOutcome {
  const survivors = [...state.inputs];
  const survivorSet = new Set(survivors);
  const dropped = state.sharers.filter((s) => !survivorSet.has(s));
  const { seedShares, keyShares } = collectShares(config, graph, state, survivorSet, new Set(dropped));
  const short = [
    ...survivors
      .filter((u) => (seedShares.get(u)?.length ?? 0) < config.threshold)
      .map((u) => `seed of site ${u}`),
    ...dropped
      .filter((v) => (keyShares.get(v)?.length ?? 0) < config.threshold)
      .map((v) => `key of site ${v}`),
  ];
  if (short.length > 0) {
    return { status: 'abandoned', reason: `fewer than ${config.threshold} shares for: ${short.join(', ')}` };
  }
  const maskPublic = new Map(state.adverts.map((a) => [a.siteId, a.maskPublicKey]));
  const sum = state.maskedSum as Uint32Array;
  const streams: MaskStream[] = [];
  for (const v of dropped) {
    const secret = shamirCombine((keyShares.get(v) as Share[]).slice(0, config.threshold));
    // A wrong or forged share would yield another scalar; its public key would not match the signed one.
    if (!bytesEqual(x25519PublicKey(secret), maskPublic.get(v) as Uint8Array)) {
      return { status: 'abandoned', reason: `rebuilt mask key of site ${v} does not match its signed key` };
    }
    for (const w of graph.get(v) ?? []) {
      if (survivorSet.has(w))
        streams.push(pairMask(config.roundId, w, v, secret, maskPublic.get(w) as Uint8Array, -1));
    }
  }
  for (const u of survivors) {
    const seed = shamirCombine((seedShares.get(u) as Share[]).slice(0, config.threshold));
    streams.push(selfMask(config.roundId, u, seed, -1));
  }
  // Every key is rebuilt and checked before the sum is touched, then all masks go in one sweep.
  applyMasks(sum, streams);
  reduceToRing(sum, ringBits(config));
  return { status: 'done', sum, survivors };
}

function collectShares(
  config: SecAggConfig,
  graph: ReadonlyMap<number, readonly number[]>,
  state: CoordinatorState,
  survivors: ReadonlySet<number>,
  dropped: ReadonlySet<number>,
): { seedShares: Map<number, Share[]>; keyShares: Map<number, Share[]> } {
  const seedShares = new Map<number, Share[]>();
  const keyShares = new Map<number, Share[]>();
  const add = (into: Map<number, Share[]>, of: number, x: number, y: Uint8Array): void => {
    const list = into.get(of) ?? [];
    if (!list.some((s) => s.x === x)) list.push({ x, y });
    into.set(of, list);
  };
  for (const r of state.responses) {
    const mine = new Set(graph.get(r.from));
    // Only shares a responder could legitimately hold, at the x it holds them at, and was asked
    // for count toward t.
    const at = (owner: number, x: number) => mine.has(owner) && shareX(graph, owner, r.from) === x;
    for (const s of r.seedShares)
      if (survivors.has(s.of) && at(s.of, s.x)) add(seedShares, s.of, s.x, s.share);
    for (const s of r.keyShares) if (dropped.has(s.of) && at(s.of, s.x)) add(keyShares, s.of, s.x, s.share);
  }
  return { seedShares, keyShares };
}
