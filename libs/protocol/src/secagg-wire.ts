/**
 * Wire <-> secure-aggregation messages of the Rounds service, for both ends: the coordinator
 * (apps/coordinator rounds-service.ts) and a site (apps/node round-participant.ts) convert with
 * these and nothing else. `toWire` functions never fail; `fromWire` functions check lengths and
 * ranges and throw WireFieldError naming the bad field. The round id is never read from the wire:
 * both ends bind it from the RoundRef (secaggRoundId), so it cannot be swapped in transit.
 */
import { packWords, unpackWords } from '@fedistill/secagg';
import type {
  KeyAdvertisement,
  MaskedInput,
  SealedShare,
  ShareDelivery,
  SiteSignature,
  SurvivorSet,
  UnmaskRequest,
  UnmaskResponse,
} from '@fedistill/secagg';
import {
  type FetchSharesResponse,
  type GetSurvivorSetResponse,
  type GetUnmaskRequestResponse,
  type RoundKeys,
  type RoundRef,
  type SealedShare as WireSealedShare,
  type SiteSignature as WireSiteSignature,
  ShareKind,
  type UnmaskShare,
} from '@fedistill/wire';
import { secaggRoundId } from './round-id';
import { wireBytes, WireFieldError, wireInt } from './wire-field-error';

const KEY_BYTES = 32; // X25519 public keys
const SIGNATURE_BYTES = 64; // Ed25519 signatures
const NONCE_BYTES = 24; // nacl.box nonces
const SITE_ID_MAX = 2 ** 32 - 1;

/** The round a request names, with the secure-aggregation round id both ends bind. */
export interface RoundName {
  readonly federationId: string;
  readonly round: number;
  readonly roundId: string;
}

export function roundFromWire(r: RoundRef | undefined): RoundName {
  if (!r || !r.federationId || !r.round)
    throw new WireFieldError('round', 'is required (federation_id and round)');
  const round = wireInt('round.round', r.round, 1);
  return { federationId: r.federationId, round, roundId: secaggRoundId(r.federationId, round) };
}

export const advertToWire = (a: KeyAdvertisement): RoundKeys => ({
  siteId: a.siteId,
  maskPublicKey: Buffer.from(a.maskPublicKey),
  sealPublicKey: Buffer.from(a.sealPublicKey),
  signature: Buffer.from(a.signature),
});

export function advertFromWire(k: RoundKeys | undefined, roundId: string, field = 'keys'): KeyAdvertisement {
  if (!k) throw new WireFieldError(field, 'is required');
  return {
    roundId,
    siteId: wireInt(`${field}.site_id`, k.siteId, 0, SITE_ID_MAX),
    maskPublicKey: wireBytes(`${field}.mask_public_key`, k.maskPublicKey, KEY_BYTES),
    sealPublicKey: wireBytes(`${field}.seal_public_key`, k.sealPublicKey, KEY_BYTES),
    signature: wireBytes(`${field}.signature`, k.signature, SIGNATURE_BYTES),
  };
}

export const shareToWire = (s: SealedShare): WireSealedShare => ({
  fromSiteId: s.from,
  toSiteId: s.to,
  nonce: Buffer.from(s.nonce),
  ciphertext: Buffer.from(s.ciphertext),
});

export function shareFromWire(s: WireSealedShare, roundId: string, field = 'shares'): SealedShare {
  const ciphertext = wireBytes(`${field}.ciphertext`, s.ciphertext);
  if (ciphertext.length === 0) throw new WireFieldError(`${field}.ciphertext`, 'is empty');
  return {
    roundId,
    from: wireInt(`${field}.from_site_id`, s.fromSiteId, 0, SITE_ID_MAX),
    to: wireInt(`${field}.to_site_id`, s.toSiteId, 0, SITE_ID_MAX),
    nonce: wireBytes(`${field}.nonce`, s.nonce, NONCE_BYTES),
    ciphertext,
  };
}

export const deliveryToWire = (d: ShareDelivery): FetchSharesResponse => ({
  shares: d.shares.map(shareToWire),
  sharers: [...d.sharers],
});

export const deliveryFromWire = (d: FetchSharesResponse, roundId: string, to: number): ShareDelivery => ({
  roundId,
  to,
  sharers: siteIds('sharers', d.sharers),
  shares: d.shares.map((s, i) => shareFromWire(s, roundId, `shares[${i}]`)),
});

/** A masked input on the wire: its entries packed at the ring width, and the sharer-set signature. */
export interface WireMaskedInput {
  readonly maskedVector: Buffer;
  readonly length: number;
  readonly sharersSignature: Buffer;
}

export const maskedInputToWire = (m: MaskedInput, bits: number): WireMaskedInput => ({
  maskedVector: Buffer.from(packWords(m.vector, bits)),
  length: m.vector.length,
  sharersSignature: Buffer.from(m.sharersSignature),
});

/** The masked input of site `from`; `length` and `bits` are the round's (a different length is refused). */
export function maskedInputFromWire(
  w: WireMaskedInput,
  round: { readonly roundId: string; readonly from: number; readonly length: number; readonly bits: number },
): MaskedInput {
  if (w.length !== round.length)
    throw new WireFieldError(
      'length',
      `the masked vector has ${w.length} entries; this round has ${round.length}`,
    );
  let vector: Uint32Array;
  try {
    vector = unpackWords(new Uint8Array(w.maskedVector), w.length, round.bits);
  } catch (err) {
    throw new WireFieldError('masked_vector', (err as Error).message);
  }
  return {
    roundId: round.roundId,
    from: round.from,
    vector,
    sharersSignature: wireBytes('sharers_signature', w.sharersSignature, SIGNATURE_BYTES),
  };
}

export const survivorSetToWire = (s: SurvivorSet): GetSurvivorSetResponse => ({
  survivors: [...s.survivors],
  dropped: [...s.dropped],
});

export const survivorSetFromWire = (s: GetSurvivorSetResponse, roundId: string, to: number): SurvivorSet => ({
  roundId,
  to,
  survivors: siteIds('survivors', s.survivors),
  dropped: siteIds('dropped', s.dropped),
});

const signatureToWire = (s: SiteSignature): WireSiteSignature => ({
  siteId: s.siteId,
  signature: Buffer.from(s.signature),
});

const signatureFromWire = (s: WireSiteSignature, field: string): SiteSignature => ({
  siteId: wireInt(`${field}.site_id`, s.siteId, 0, SITE_ID_MAX),
  signature: wireBytes(`${field}.signature`, s.signature, SIGNATURE_BYTES),
});

/** A survivor's signature over the survivor set, as it travels (SubmitSurvivorSignature.signature). */
export const survivorSignatureFromWire = (signature: Uint8Array | undefined): Uint8Array =>
  wireBytes('signature', signature, SIGNATURE_BYTES);

export const unmaskRequestToWire = (r: UnmaskRequest): GetUnmaskRequestResponse => ({
  survivors: [...r.survivors],
  dropped: [...r.dropped],
  survivorSignatures: r.signatures.map(signatureToWire),
  sharerSignatures: r.sharerSignatures.map(signatureToWire),
});

export const unmaskRequestFromWire = (
  r: GetUnmaskRequestResponse,
  roundId: string,
  to: number,
): UnmaskRequest => ({
  roundId,
  to,
  survivors: siteIds('survivors', r.survivors),
  dropped: siteIds('dropped', r.dropped),
  signatures: r.survivorSignatures.map((s, i) => signatureFromWire(s, `survivor_signatures[${i}]`)),
  sharerSignatures: r.sharerSignatures.map((s, i) => signatureFromWire(s, `sharer_signatures[${i}]`)),
});

/** The revealed shares of an unmask response, mask-key shares then self-mask-seed shares. */
export const unmaskResponseToWire = (r: UnmaskResponse): UnmaskShare[] => [
  ...r.keyShares.map((s) => ({
    aboutSiteId: s.of,
    kind: ShareKind.SHARE_KIND_MASK_KEY,
    x: s.x,
    share: Buffer.from(s.share),
  })),
  ...r.seedShares.map((s) => ({
    aboutSiteId: s.of,
    kind: ShareKind.SHARE_KIND_SELF_MASK_SEED,
    x: s.x,
    share: Buffer.from(s.share),
  })),
];

export function unmaskResponseFromWire(
  shares: readonly UnmaskShare[],
  roundId: string,
  from: number,
): UnmaskResponse {
  const reveal = (kind: ShareKind) =>
    shares
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.kind === kind)
      .map(({ s, i }) => ({
        of: wireInt(`shares[${i}].about_site_id`, s.aboutSiteId, 0, SITE_ID_MAX),
        x: wireInt(`shares[${i}].x`, s.x, 1, 255),
        share: wireBytes(`shares[${i}].share`, s.share),
      }));
  shares.forEach((s, i) => {
    if (s.kind !== ShareKind.SHARE_KIND_MASK_KEY && s.kind !== ShareKind.SHARE_KIND_SELF_MASK_SEED)
      throw new WireFieldError(`shares[${i}].kind`, `unknown kind ${s.kind}`);
  });
  return {
    roundId,
    from,
    keyShares: reveal(ShareKind.SHARE_KIND_MASK_KEY),
    seedShares: reveal(ShareKind.SHARE_KIND_SELF_MASK_SEED),
  };
}

function siteIds(field: string, ids: readonly number[]): number[] {
  return ids.map((id, i) => wireInt(`${field}[${i}]`, id, 0, SITE_ID_MAX));
}
