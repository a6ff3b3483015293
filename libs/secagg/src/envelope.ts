/**
 * What is signed and what is sealed, byte for byte. Domain-separation labels keep a signature or
 * a box made for one purpose from being accepted for another.
 */
import nacl from 'tweetnacl';
import { bytesEqual, concatBytes, field, u32be, utf8 } from './bytes';
import { ed25519Sign, ed25519Verify } from './curve';
import { ShareRejectedError } from './errors';
import type { KeyAdvertisement, SealedShare } from './messages';
import { randomBytes, type RandomSource } from './random';

const KEYS_LABEL = utf8('fedistill/secagg/v1/round-keys');
const SHARE_LABEL = utf8('fedistill/secagg/v1/share');

function advertBytes(roundId: string, siteId: number, sealPk: Uint8Array, maskPk: Uint8Array): Uint8Array {
  return concatBytes(field(KEYS_LABEL), field(utf8(roundId)), u32be(siteId), field(sealPk), field(maskPk));
}

/** Builds the signed advertisement of a site's two round public keys (Bonawitz et al. CCS 2017, §4, round 0). */
export function signAdvert(
  roundId: string,
  siteId: number,
  sealPublicKey: Uint8Array,
  maskPublicKey: Uint8Array,
  identitySecretKey: Uint8Array,
): KeyAdvertisement {
  const signature = ed25519Sign(
    advertBytes(roundId, siteId, sealPublicKey, maskPublicKey),
    identitySecretKey,
  );
  return { roundId, siteId, sealPublicKey, maskPublicKey, signature };
}

/** Whether `advert` is signed by `identityPublicKey` for `roundId`; false otherwise (forged, replayed, malformed). */
export function verifyAdvert(
  advert: KeyAdvertisement,
  roundId: string,
  identityPublicKey: Uint8Array,
): boolean {
  if (advert.roundId !== roundId) return false;
  if (advert.sealPublicKey.length !== 32 || advert.maskPublicKey.length !== 32) return false;
  const bytes = advertBytes(advert.roundId, advert.siteId, advert.sealPublicKey, advert.maskPublicKey);
  return ed25519Verify(bytes, advert.signature, identityPublicKey);
}

/** The plaintext of one sealed share. */
export interface SharePlaintext {
  readonly roundId: string;
  readonly from: number;
  readonly to: number;
  readonly x: number;
  readonly keyShare: Uint8Array;
  readonly seedShare: Uint8Array;
}

function plaintextBytes(p: SharePlaintext): Uint8Array {
  return concatBytes(
    field(SHARE_LABEL),
    field(utf8(p.roundId)),
    u32be(p.from),
    u32be(p.to),
    u32be(p.x),
    field(p.keyShare),
    field(p.seedShare),
  );
}

/** Seals `p` with nacl.box under the precomputed key of (sender seal secret, recipient seal public). */
export function sealShare(p: SharePlaintext, boxKey: Uint8Array, random: RandomSource): SealedShare {
  const nonce = randomBytes(random, nacl.box.nonceLength);
  const ciphertext = nacl.box.after(plaintextBytes(p), nonce, boxKey);
  return { roundId: p.roundId, from: p.from, to: p.to, nonce, ciphertext };
}

/**
 * Opens a sealed share and checks that the bound round, sender and recipient match both the
 * envelope and what the recipient expects. Throws ShareRejectedError on any mismatch: a tampered
 * box fails authentication, a re-routed one fails because the box key is pairwise.
 */
export function openShare(
  sealed: SealedShare,
  boxKey: Uint8Array,
  expect: { roundId: string; to: number },
): SharePlaintext {
  const where = `share from site ${sealed.from} to site ${sealed.to}`;
  if (sealed.roundId !== expect.roundId)
    throw new ShareRejectedError(`${where} is for round '${sealed.roundId}'`);
  if (sealed.to !== expect.to) throw new ShareRejectedError(`${where} was delivered to site ${expect.to}`);
  const opened = nacl.box.open.after(sealed.ciphertext, sealed.nonce, boxKey);
  if (!opened) throw new ShareRejectedError(`${where} failed authentication`);
  const p = parsePlaintext(opened);
  if (!p || p.roundId !== sealed.roundId || p.from !== sealed.from || p.to !== sealed.to) {
    throw new ShareRejectedError(`${where} binds a different round, sender or recipient`);
  }
  return p;
}

function parsePlaintext(bytes: Uint8Array): SharePlaintext | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const take = (): Uint8Array | undefined => {
    if (at + 4 > bytes.length) return undefined;
    const len = view.getUint32(at, false);
    if (at + 4 + len > bytes.length) return undefined;
    const out = bytes.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    return out;
  };
  const label = take();
  const round = take();
  if (!label || !round || !bytesEqual(label, SHARE_LABEL) || at + 12 > bytes.length) return undefined;
  const from = view.getUint32(at, false);
  const to = view.getUint32(at + 4, false);
  const x = view.getUint32(at + 8, false);
  at += 12;
  const keyShare = take();
  const seedShare = take();
  if (!keyShare || !seedShare || at !== bytes.length) return undefined;
  return { roundId: new TextDecoder().decode(round), from, to, x, keyShare, seedShare };
}
