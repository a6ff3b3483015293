/**
 * The seed of the neighbour graph, derived from the key roster rather than chosen by the
 * coordinator. SecAgg+ needs the graph to be random and unknown in advance (Bell et al., CCS
 * 2020, §3.2: security rests on each neighbourhood holding few corrupted sites); a coordinator
 * that picked the seed could try seeds until a target's neighbours are sites it controls. Here
 * every party hashes the roster it verified (every advertisement, including the signatures over
 * them), so the seed is fixed only once the keys are committed, and the coordinator can change
 * it only by changing the roster itself. Residual risk: sites the coordinator controls can still
 * choose their round keys after seeing the honest sites' advertisements and so try many rosters
 * (one X25519 key pair and one Ed25519 signature per try); see docs/threat-model.md. The full
 * mesh does not depend on the seed at all.
 */
import { createHash } from 'node:crypto';
import { field, utf8 } from './bytes';
import type { KeyAdvertisement } from './messages';

const GRAPH_LABEL = utf8('fedistill/secagg/v1/graph-seed');

/**
 * SHA-256 over the label, the round id and every advertisement of the roster in site-id order
 * (id, seal key, mask key, signature, each length-prefixed): 32 bytes. Throws RangeError if an
 * id appears twice (a roster the caller should have refused).
 */
export function rosterGraphSeed(roundId: string, adverts: readonly KeyAdvertisement[]): Uint8Array {
  const sorted = [...adverts].sort((a, b) => a.siteId - b.siteId);
  // The same bytes as hashing field by field, written into one buffer first: every site hashes
  // the whole roster, and one update per field made this the slowest step at 10,000 sites.
  let size = 0;
  for (const a of sorted) size += 16 + a.sealPublicKey.length + a.maskPublicKey.length + a.signature.length;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  const put = (bytes: Uint8Array): void => {
    at = buf.writeUInt32BE(bytes.length, at);
    buf.set(bytes, at);
    at += bytes.length;
  };
  let last = -1;
  for (const a of sorted) {
    if (a.siteId === last) throw new RangeError(`'adverts' lists site ${a.siteId} twice`);
    last = a.siteId;
    at = buf.writeUInt32BE(a.siteId >>> 0, at);
    put(a.sealPublicKey);
    put(a.maskPublicKey);
    put(a.signature);
  }
  const h = createHash('sha256')
    .update(field(GRAPH_LABEL))
    .update(field(utf8(roundId)))
    .update(buf);
  return new Uint8Array(h.digest());
}
