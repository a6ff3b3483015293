import { randomBytes } from 'node:crypto';
import type { KeyAdvertisement, SealedShare, UnmaskRequest, UnmaskResponse } from '@fedistill/secagg';
import {
  FetchSharesResponse,
  GetSurvivorSetResponse,
  GetUnmaskRequestResponse,
  RoundKeys,
  SubmitMaskedSummaryRequest,
  SubmitUnmaskSharesRequest,
} from '@fedistill/wire';
import {
  advertFromWire,
  advertToWire,
  deliveryFromWire,
  deliveryToWire,
  maskedInputFromWire,
  maskedInputToWire,
  roundFromWire,
  survivorSetFromWire,
  survivorSetToWire,
  unmaskRequestFromWire,
  unmaskRequestToWire,
  unmaskResponseFromWire,
  unmaskResponseToWire,
} from './secagg-wire';
import { WireFieldError } from './wire-field-error';

const ROUND = 'fed#3';
const bytes = (n: number) => new Uint8Array(randomBytes(n));
/** Through protobuf bytes and back, as the message travels. */
const travel = <T>(codec: { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T }, m: T): T =>
  codec.decode(codec.encode(m).finish());

const share = (from: number, to: number): SealedShare => ({
  roundId: ROUND,
  from,
  to,
  nonce: bytes(24),
  ciphertext: bytes(80),
});

describe('secagg-wire', () => {
  it('names the round from a RoundRef, and refuses a missing one', () => {
    expect(roundFromWire({ federationId: 'fed', round: 3 })).toEqual({
      federationId: 'fed',
      round: 3,
      roundId: ROUND,
    });
    expect(() => roundFromWire(undefined)).toThrow('round: is required');
    expect(() => roundFromWire({ federationId: 'fed', round: 1.5 })).toThrow(WireFieldError);
  });

  it('round-trips a key advertisement, and refuses a key of the wrong length', () => {
    const advert: KeyAdvertisement = {
      roundId: ROUND,
      siteId: 2,
      maskPublicKey: bytes(32),
      sealPublicKey: bytes(32),
      signature: bytes(64),
    };
    expect(advertFromWire(travel(RoundKeys, advertToWire(advert)), ROUND)).toEqual(advert);
    const short = { ...advertToWire(advert), sealPublicKey: Buffer.alloc(31) };
    expect(() => advertFromWire(short, ROUND)).toThrow('keys.seal_public_key: has 31 bytes; it must have 32');
    expect(() => advertFromWire(undefined, ROUND)).toThrow('keys: is required');
  });

  it('round-trips a share delivery, and refuses a bad nonce naming the share', () => {
    const delivery = { roundId: ROUND, to: 1, sharers: [0, 1, 2], shares: [share(0, 1), share(2, 1)] };
    expect(deliveryFromWire(travel(FetchSharesResponse, deliveryToWire(delivery)), ROUND, 1)).toEqual(
      delivery,
    );
    const wire = deliveryToWire(delivery);
    const bad = { ...wire, shares: [wire.shares[0]!, { ...wire.shares[1]!, nonce: Buffer.alloc(8) }] };
    expect(() => deliveryFromWire(bad, ROUND, 1)).toThrow('shares[1].nonce: has 8 bytes; it must have 24');
  });

  it('round-trips a masked input at the ring width, and refuses a wrong length or packing', () => {
    const input = {
      roundId: ROUND,
      from: 1,
      vector: Uint32Array.from([0, 1, 65535, 7]),
      sharersSignature: bytes(64),
    };
    const wire = travel(SubmitMaskedSummaryRequest, { round: undefined, ...maskedInputToWire(input, 16) });
    expect(wire.maskedVector.length).toBe(8);
    const round = { roundId: ROUND, from: 1, length: 4, bits: 16 };
    expect(maskedInputFromWire(wire, round)).toEqual(input);
    expect(() => maskedInputFromWire(wire, { ...round, length: 5 })).toThrow(
      'length: the masked vector has 4 entries; this round has 5',
    );
    expect(() => maskedInputFromWire({ ...wire, maskedVector: Buffer.alloc(3) }, round)).toThrow(
      /^masked_vector: /,
    );
    expect(() => maskedInputFromWire({ ...wire, sharersSignature: Buffer.alloc(0) }, round)).toThrow(
      'sharers_signature: has 0 bytes; it must have 64',
    );
  });

  it('round-trips a survivor set', () => {
    const set = { roundId: ROUND, to: 0, survivors: [0, 2], dropped: [1] };
    expect(survivorSetFromWire(travel(GetSurvivorSetResponse, survivorSetToWire(set)), ROUND, 0)).toEqual(
      set,
    );
  });

  it('round-trips an unmask request with its signatures, and refuses a short signature', () => {
    const request: UnmaskRequest = {
      roundId: ROUND,
      to: 2,
      survivors: [0, 2],
      dropped: [1],
      signatures: [
        { siteId: 0, signature: bytes(64) },
        { siteId: 2, signature: bytes(64) },
      ],
      sharerSignatures: [{ siteId: 0, signature: bytes(64) }],
    };
    const wire = travel(GetUnmaskRequestResponse, unmaskRequestToWire(request));
    expect(unmaskRequestFromWire(wire, ROUND, 2)).toEqual(request);
    const bad = { ...wire, sharerSignatures: [{ siteId: 0, signature: Buffer.alloc(63) }] };
    expect(() => unmaskRequestFromWire(bad, ROUND, 2)).toThrow(
      'sharer_signatures[0].signature: has 63 bytes',
    );
  });

  it('round-trips an unmask response, key shares and seed shares apart, and refuses x = 0', () => {
    const response: UnmaskResponse = {
      roundId: ROUND,
      from: 2,
      keyShares: [{ of: 1, x: 3, share: bytes(33) }],
      seedShares: [
        { of: 0, x: 3, share: bytes(33) },
        { of: 2, x: 3, share: bytes(33) },
      ],
    };
    const wire = travel(SubmitUnmaskSharesRequest, {
      round: undefined,
      shares: unmaskResponseToWire(response),
    });
    expect(unmaskResponseFromWire(wire.shares, ROUND, 2)).toEqual(response);
    const zero = wire.shares.map((s, i) => (i === 1 ? { ...s, x: 0 } : s));
    expect(() => unmaskResponseFromWire(zero, ROUND, 2)).toThrow('shares[1].x: 0 is outside [1, 255]');
    const unknown = wire.shares.map((s, i) => (i === 0 ? { ...s, kind: 9 } : s));
    expect(() => unmaskResponseFromWire(unknown, ROUND, 2)).toThrow('shares[0].kind: unknown kind 9');
  });
});
