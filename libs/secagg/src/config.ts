/**
 * Round configuration and its invariants, checked once when a site or the coordinator is created.
 */
import { deriveMaskKey, expandMask } from './prg';

/** Everything both sides must agree on for one secure-aggregation round. All fields are public. */
export interface SecAggConfig {
  /** Round identifier, bound into every signature, sealed share and mask derivation (1..256 chars). */
  readonly roundId: string;
  /**
   * The invited sites' ids: distinct integers in [0, 2^32), 2..MAX_SITES of them. A site's Shamir
   * shares go only to its neighbours, at x = the holder's position in the owner's neighbour list
   * (1..255 in GF(2^8), see `shareX`), so a round takes at most 255 neighbours per site (the full
   * mesh: at most 256 sites), not 255 sites.
   */
  readonly siteIds: readonly number[];
  /**
   * Shamir threshold t: shares needed to rebuild a site's secret. Must be a strict majority of a
   * site's neighbours (t > k/2), so a coordinator that tells half the neighbours "dropped" and
   * the other half "survived" cannot collect t of both kinds (Bonawitz et al. CCS 2017, §4; Bell et
   * al. CCS 2020, §3). Larger t resists more colluding neighbours; smaller t tolerates more dropouts.
   */
  readonly threshold: number;
  /**
   * Masking graph: 'all' for the full mesh of Bonawitz et al., or k (even, 2 <= k < n) random
   * neighbours per site as in SecAgg+ (Bell et al. CCS 2020, §3: a random Harary graph). Cost per
   * site is O(k) agreements, shares and PRG passes instead of O(n).
   */
  readonly neighbours: number | 'all';
  /** Ring size: inputs, masks and the sum live in Z_{2^bits}; integer in [1, 32]. Default 32. */
  readonly bits?: number;
  /**
   * Largest magnitude a site may put in one entry: inputs are in [0, maxInput], or with `signed`
   * in [-maxInput, maxInput]. The true sum must fit: n * maxInput <= 2^bits - 1 (unsigned) or
   * <= 2^(bits-1) - 1 (signed). With noise added, include its tail (e.g. 20 noise standard deviations).
   */
  readonly maxInput: number;
  /**
   * Whether entries are signed integers in two's complement mod 2^bits (see `encodeSigned` and
   * `decodeSigned`), as noisy summaries are. Default false.
   */
  readonly signed?: boolean;
  /** Vector length d (entries), integer >= 1. */
  readonly length: number;
  /**
   * Fewest sites whose inputs may be unmasked together (default: the threshold). With
   * distributed noise that tolerates T dropouts, set n - T: the sum is then never revealed with
   * less than the target noise, and every site enforces this itself when asked to unmask.
   */
  readonly minSurvivors?: number;
}

/** The ring size b of `config` (default 32). */
export function ringBits(config: SecAggConfig): number {
  return config.bits ?? 32;
}

/** Throws RangeError/TypeError naming the first setting that breaks an invariant. */
export function validateConfig(config: SecAggConfig): void {
  const { roundId, siteIds, threshold, maxInput, length } = config;
  const bits = ringBits(config);
  if (typeof roundId !== 'string' || roundId.length < 1 || roundId.length > 256) {
    throw new RangeError("'roundId' must be a string of 1..256 characters");
  }
  const n = siteIds.length;
  if (n < 2 || n > MAX_SITES) throw new RangeError(`'siteIds' must list 2..${MAX_SITES} sites`);
  if (siteIds.some((id) => !Number.isInteger(id) || id < 0 || id >= 2 ** 32) || new Set(siteIds).size !== n) {
    throw new RangeError("'siteIds' must be distinct integers in [0, 2^32)");
  }
  if (!Number.isInteger(bits) || bits < 1 || bits > 32)
    throw new RangeError("'bits' must be an integer in [1, 32]");
  if (!Number.isInteger(maxInput) || maxInput < 0)
    throw new RangeError("'maxInput' must be a non-negative integer");
  // The true sum must fit in the ring, or unmasking returns it reduced mod 2^bits (silently wrong).
  const room = config.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (n * maxInput > room) {
    throw new RangeError(`'maxInput' too large: ${n} sites x ${maxInput} exceeds ${room} for ${bits} bits`);
  }
  if (!Number.isInteger(length) || length < 1) throw new RangeError("'length' must be an integer >= 1");
  const minSurvivors = config.minSurvivors ?? 1;
  if (!Number.isInteger(minSurvivors) || minSurvivors < 1 || minSurvivors > n) {
    throw new RangeError("'minSurvivors' must be an integer in [1, number of sites]");
  }
  const degree = neighbourCount(config);
  if (degree > MAX_NEIGHBOURS)
    throw new RangeError(
      `${degree} neighbours per site: Shamir shares live in GF(2^8), so a site can have at most ` +
        `${MAX_NEIGHBOURS} neighbours; with ${n} sites use 'neighbours' k <= ${MAX_NEIGHBOURS - 1} (SecAgg+) instead of the full mesh`,
    );
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > degree || 2 * threshold <= degree) {
    throw new RangeError(
      `'threshold' must be an integer with ${degree}/2 < t <= ${degree} (neighbours per site)`,
    );
  }
}

/** The most sites one round takes (bounds the coordinator's per-round state and the roster). */
export const MAX_SITES = 100_000;
/** The most neighbours a site may have: share x-coordinates are 1..255, the non-zero elements of GF(2^8). */
export const MAX_NEIGHBOURS = 255;

/** Neighbours per site: n - 1 for the full mesh, else min(k, n - 1). */
export function neighbourCount(config: SecAggConfig): number {
  const n = config.siteIds.length;
  const k = config.neighbours;
  if (k === 'all') return n - 1;
  if (!Number.isInteger(k) || k < 2 || k % 2 !== 0)
    throw new RangeError("'neighbours' must be 'all' or an even integer >= 2");
  return Math.min(k, n - 1);
}

/**
 * The neighbour sets of the round: the full mesh, or a Harary graph H(k, n) over a permutation
 * of the sites drawn from `graphSeed` (Bell et al. CCS 2020, §3.2): each site is linked to the
 * k/2 sites on either side of it on the permuted cycle. Deterministic, so every party computes
 * the same graph from the same seed. The seed is not chosen by the coordinator: every party
 * derives it from the key roster (`rosterGraphSeed` in graph-seed.ts), after the keys are
 * advertised. The full mesh ignores it. Map from site id to its sorted neighbour ids.
 */
export function neighbourGraph(
  config: SecAggConfig,
  graphSeed: Uint8Array,
): ReadonlyMap<number, readonly number[]> {
  // Every party of a round computes the same graph; a process that hosts many of them (the
  // simulator, the load benchmark) computes it once. Keyed by everything the graph depends on.
  const key = `${config.roundId}\u0000${Buffer.from(graphSeed ?? []).toString('hex')}\u0000${String(config.neighbours)}\u0000${config.siteIds.join(',')}`;
  const cached = graphCache.get(key);
  if (cached) return cached;
  const graph = buildGraph(config, graphSeed);
  graphCache.set(key, graph);
  if (graphCache.size > GRAPH_CACHE_SIZE) graphCache.delete(graphCache.keys().next().value as string);
  return graph;
}

const GRAPH_CACHE_SIZE = 4;
const graphCache = new Map<string, ReadonlyMap<number, readonly number[]>>();

function buildGraph(config: SecAggConfig, graphSeed: Uint8Array): Map<number, number[]> {
  const ids = [...config.siteIds];
  const n = ids.length;
  const degree = neighbourCount(config);
  const graph = new Map<number, number[]>();
  if (degree >= n - 1) {
    for (const id of ids)
      graph.set(
        id,
        ids.filter((o) => o !== id).sort((a, b) => a - b),
      );
    return graph;
  }
  if (!(graphSeed instanceof Uint8Array) || graphSeed.length !== 32)
    throw new RangeError("'graphSeed' must be 32 bytes");
  const order = permute(
    ids.sort((a, b) => a - b),
    config.roundId,
    graphSeed,
  );
  for (const [pos, id] of order.entries()) {
    const set = new Set<number>();
    for (let step = 1; step <= degree / 2; step++) {
      set.add(order[(pos + step) % n] as number);
      set.add(order[(pos - step + n) % n] as number);
    }
    graph.set(
      id,
      [...set].sort((a, b) => a - b),
    );
  }
  return graph;
}

// Fisher-Yates with indices from the AES-CTR stream keyed by the public graph seed. The modulo
// bias is below 255 / 2^32 per draw, negligible next to the randomness of the graph itself.
function permute(ids: number[], roundId: string, graphSeed: Uint8Array): number[] {
  const stream = expandMask(deriveMaskKey(graphSeed, 'graph', roundId, []), ids.length);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = (stream[i] as number) % (i + 1);
    [ids[i], ids[j]] = [ids[j] as number, ids[i] as number];
  }
  return ids;
}

/** Encodes signed integers (|v| < 2^(bits-1)) into Z_{2^bits} in two's complement. */
export function encodeSigned(values: Int32Array, bits: number): Uint32Array {
  const mask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = ((values[i] as number) & mask) >>> 0;
  return out;
}

/** Decodes a sum in Z_{2^bits} back to signed integers in [-2^(bits-1), 2^(bits-1)). */
export function decodeSigned(sum: Uint32Array, bits: number): Int32Array {
  const half = 2 ** (bits - 1);
  const out = new Int32Array(sum.length);
  for (let i = 0; i < sum.length; i++) {
    const v = sum[i] as number;
    out[i] = v >= half ? v - 2 * half : v;
  }
  return out;
}

/** The fewest survivors (sites whose masked inputs are summed) for which unmasking may proceed. */
export function survivorFloor(config: SecAggConfig): number {
  return Math.max(config.threshold, config.minSurvivors ?? 1);
}

/**
 * The Shamir x-coordinate of the share of `owner`'s secrets that `holder` holds: the holder's
 * 1-based position in the owner's sorted neighbour list. x only has to be distinct among the
 * shares of one secret, and those go to the owner's neighbours only, so x <= 255 for any number
 * of sites. Every party derives it from the public graph; nobody chooses it.
 */
export function shareX(graph: ReadonlyMap<number, readonly number[]>, owner: number, holder: number): number {
  const i = graph.get(owner)?.indexOf(holder) ?? -1;
  if (i < 0) throw new RangeError(`site ${holder} is not a neighbour of site ${owner}`);
  return i + 1;
}
