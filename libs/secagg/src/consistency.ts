/**
 * What a site signs about the sets the coordinator told it, so that no two honest sites can be
 * made to act on different views (Bonawitz et al., CCS 2017, Fig. 4, round 3 "ConsistencyCheck"
 * and §6 on the active adversary):
 *  - with its masked input, a site signs the sharer set U2 it masked against (the sharers'
 *    attestation; our addition: helpers reveal a survivor's self-mask seed only if that survivor
 *    attested the same U2, so a survivor told a smaller U2, whose pairwise masks the other
 *    helpers would then remove as "dropped", never has its seed revealed);
 *  - once the input stage is closed, each survivor signs (U3, U2 \ U3) exactly once, and a site
 *    reveals shares only when it holds signatures over the identical sets from a quorum of
 *    sites (`consistencyQuorum`).
 * Every signed message names the round and the graph seed (which hashes the roster), so a
 * signature is valid for one roster of one round only.
 */
import { concatBytes, field, utf8 } from './bytes';
import { type SecAggConfig } from './config';
import { ed25519Sign } from './curve';
import type { SiteSignature } from './messages';
import { directSignatureChecks, type SignatureChecks } from './signature-checks';

const SHARERS_LABEL = utf8('fedistill/secagg/v1/sharers');
const SURVIVORS_LABEL = utf8('fedistill/secagg/v1/survivors');

// Count, then the ids sorted, each u32 big-endian; written into one buffer (a 10,000-site list
// is signed and checked by every site, so no per-id allocation).
function idList(ids: readonly number[]): Uint8Array {
  const sorted = [...ids].sort((a, b) => a - b);
  const out = new Uint8Array(4 * (sorted.length + 1));
  const view = new DataView(out.buffer);
  view.setUint32(0, sorted.length >>> 0, false);
  for (let i = 0; i < sorted.length; i++) view.setUint32(4 * (i + 1), (sorted[i] as number) >>> 0, false);
  return out;
}

/** The bytes a site signs over the sharer set U2 it masked against (ids sorted, count first). */
export function sharersBytes(roundId: string, graphSeed: Uint8Array, sharers: readonly number[]): Uint8Array {
  return concatBytes(field(SHARERS_LABEL), field(utf8(roundId)), field(graphSeed), idList(sharers));
}

/** The bytes a survivor signs in the consistency round: survivors U3, then dropped U2 \ U3. */
export function survivorsBytes(
  roundId: string,
  graphSeed: Uint8Array,
  survivors: readonly number[],
  dropped: readonly number[],
): Uint8Array {
  return concatBytes(
    field(SURVIVORS_LABEL),
    field(utf8(roundId)),
    field(graphSeed),
    idList(survivors),
    idList(dropped),
  );
}

/** Ed25519 signature (64 bytes) of `bytes` with the site's identity secret key. */
export function signWith(bytes: Uint8Array, identitySecretKey: Uint8Array): Uint8Array {
  return ed25519Sign(bytes, identitySecretKey);
}

/**
 * Sites among `signatures` whose signature over `bytes` verifies against their identity key,
 * counted once each and only if they are in `allowed`; `bad` lists the ids that failed
 * (unknown site, outside `allowed`, twice, or a signature that does not verify).
 */
export function verifiedSigners(
  signatures: readonly SiteSignature[],
  bytes: Uint8Array,
  identityKeys: ReadonlyMap<number, Uint8Array>,
  allowed: ReadonlySet<number>,
  /** Stop once this many have verified (the rest is not needed, and not checked). */
  enough = Infinity,
  checks: SignatureChecks = directSignatureChecks,
): { good: Set<number>; bad: number[] } {
  const check = checks.over(bytes);
  const good = new Set<number>();
  const bad: number[] = [];
  for (const s of signatures) {
    if (good.size >= enough) break;
    const key = identityKeys.get(s.siteId);
    const ok =
      key !== undefined &&
      allowed.has(s.siteId) &&
      !good.has(s.siteId) &&
      s.signature instanceof Uint8Array &&
      s.signature.length === 64 &&
      check(s.signature, key);
    if (ok) good.add(s.siteId);
    else bad.push(s.siteId);
  }
  return { good, bad };
}

/**
 * Signatures a site needs over one survivor set before it reveals anything: more than
 * (n + C) / 2 of the n invited sites, and at least t. Each honest site signs one set, so two
 * disjoint groups that each reach the quorum would need 2q <= n + C sites counting the C
 * colluders twice; with q > (n + C) / 2 at most one survivor set can ever be unmasked. The
 * threshold t alone is not enough: with n = 10, t = 5 the coordinator could show 5 sites one
 * set and the other 5 another (the active-security analysis of Bonawitz et al. CCS 2017, §6,
 * asks t > 2n/3 for the same reason).
 * `colluders` C is the site's own assumption of how many other sites side with the coordinator.
 */
export function consistencyQuorum(config: SecAggConfig, colluders = 0): number {
  const n = config.siteIds.length;
  if (!Number.isInteger(colluders) || colluders < 0 || colluders >= n)
    throw new RangeError(`'colluders' must be an integer in [0, ${n - 1}]`);
  return Math.max(config.threshold, Math.floor((n + colluders) / 2) + 1);
}
