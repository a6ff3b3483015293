import { ShareKind, type RoundsService, type RoundRef } from '@fedistill/wire';
import type {
  AdvertiseKeysRequest,
  DeclineRoundRequest,
  FetchSharesRequest,
  FetchSharesResponse,
  GetRoundKeysRequest,
  GetRoundKeysResponse,
  GetSurvivorSetRequest,
  GetSurvivorSetResponse,
  GetUnmaskRequestRequest,
  GetUnmaskRequestResponse,
  SendSharesRequest,
  SubmitMaskedSummaryRequest,
  SubmitMaskedSummaryResponse,
  SubmitSurvivorSignatureRequest,
  SubmitUnmaskSharesRequest,
} from '@fedistill/wire';
import type { KeyAdvertisement, SealedShare as SecAggShare, SiteSignature } from '@fedistill/secagg';
import { RequestInvalidError } from '../domain/errors';
import type { CallContext, MethodSpec } from '../grpc/secure-service';
import { secaggRoundId } from '@fedistill/protocol';
import type { RoundEngine } from './round-engine';

/** Wire <-> secure-aggregation messages for the Rounds service: the one place they meet. */
function ref(r: RoundRef | undefined): { fed: string; round: number; roundId: string } {
  if (!r || !r.federationId || !r.round)
    throw new RequestInvalidError('field round (federation_id and round) is required');
  return { fed: r.federationId, round: r.round, roundId: secaggRoundId(r.federationId, r.round) };
}

const site = (ctx: CallContext): string => ctx.site?.name ?? '';
const none = {};

const toWireAdvert = (a: KeyAdvertisement) => ({
  siteId: a.siteId,
  maskPublicKey: Buffer.from(a.maskPublicKey),
  sealPublicKey: Buffer.from(a.sealPublicKey),
  signature: Buffer.from(a.signature),
});

const toWireSignature = (s: SiteSignature) => ({ siteId: s.siteId, signature: Buffer.from(s.signature) });

const toWireShare = (s: SecAggShare) => ({
  fromSiteId: s.from,
  toSiteId: s.to,
  nonce: Buffer.from(s.nonce),
  ciphertext: Buffer.from(s.ciphertext),
});

export function roundsMethods(engine: RoundEngine): Record<keyof typeof RoundsService, MethodSpec> {
  return {
    advertiseKeys: {
      requestType: 'AdvertiseKeysRequest',
      handler: async (req: AdvertiseKeysRequest, ctx: CallContext) => {
        const r = ref(req.round);
        const k = req.keys;
        if (!k) throw new RequestInvalidError('field keys is required');
        await engine.advertiseKeys(site(ctx), r.fed, r.round, {
          roundId: r.roundId,
          siteId: k.siteId,
          maskPublicKey: new Uint8Array(k.maskPublicKey),
          sealPublicKey: new Uint8Array(k.sealPublicKey),
          signature: new Uint8Array(k.signature),
        });
        return none;
      },
    },
    getRoundKeys: {
      requestType: 'GetRoundKeysRequest',
      // eslint-disable-next-line @typescript-eslint/require-await
      handler: async (req: GetRoundKeysRequest, ctx: CallContext): Promise<GetRoundKeysResponse> => {
        const r = ref(req.round);
        return { keys: engine.roster(site(ctx), r.fed, r.round).adverts.map(toWireAdvert) };
      },
    },
    sendShares: {
      requestType: 'SendSharesRequest',
      handler: async (req: SendSharesRequest, ctx: CallContext) => {
        const r = ref(req.round);
        const shares = req.shares.map((s) => ({
          roundId: r.roundId,
          from: s.fromSiteId,
          to: s.toSiteId,
          nonce: new Uint8Array(s.nonce),
          ciphertext: new Uint8Array(s.ciphertext),
        }));
        await engine.sendShares(site(ctx), r.fed, r.round, shares);
        return none;
      },
    },
    fetchShares: {
      requestType: 'FetchSharesRequest',
      // eslint-disable-next-line @typescript-eslint/require-await
      handler: async (req: FetchSharesRequest, ctx: CallContext): Promise<FetchSharesResponse> => {
        const r = ref(req.round);
        const delivery = engine.delivery(site(ctx), r.fed, r.round);
        return { shares: delivery.shares.map(toWireShare), sharers: [...delivery.sharers] };
      },
    },
    submitMaskedSummary: {
      requestType: 'SubmitMaskedSummaryRequest',
      handler: async (
        req: SubmitMaskedSummaryRequest,
        ctx: CallContext,
      ): Promise<SubmitMaskedSummaryResponse> => {
        const r = ref(req.round);
        const receipt = await engine.submitInput(
          site(ctx),
          r.fed,
          r.round,
          new Uint8Array(req.maskedVector),
          req.length,
          new Uint8Array(req.sharersSignature),
        );
        return { receiptSha256: Buffer.from(receipt, 'hex') };
      },
    },
    getSurvivorSet: {
      requestType: 'GetSurvivorSetRequest',
      // eslint-disable-next-line @typescript-eslint/require-await
      handler: async (req: GetSurvivorSetRequest, ctx: CallContext): Promise<GetSurvivorSetResponse> => {
        const r = ref(req.round);
        const set = engine.survivorSet(site(ctx), r.fed, r.round);
        return { survivors: [...set.survivors], dropped: [...set.dropped] };
      },
    },
    submitSurvivorSignature: {
      requestType: 'SubmitSurvivorSignatureRequest',
      handler: async (req: SubmitSurvivorSignatureRequest, ctx: CallContext) => {
        const r = ref(req.round);
        await engine.submitSurvivorSignature(site(ctx), r.fed, r.round, new Uint8Array(req.signature));
        return none;
      },
    },
    getUnmaskRequest: {
      requestType: 'GetUnmaskRequestRequest',
      // eslint-disable-next-line @typescript-eslint/require-await
      handler: async (req: GetUnmaskRequestRequest, ctx: CallContext): Promise<GetUnmaskRequestResponse> => {
        const r = ref(req.round);
        const request = engine.unmaskRequest(site(ctx), r.fed, r.round);
        return {
          survivors: [...request.survivors],
          dropped: [...request.dropped],
          survivorSignatures: request.signatures.map(toWireSignature),
          sharerSignatures: request.sharerSignatures.map(toWireSignature),
        };
      },
    },
    submitUnmaskShares: {
      requestType: 'SubmitUnmaskSharesRequest',
      handler: async (req: SubmitUnmaskSharesRequest, ctx: CallContext) => {
        const r = ref(req.round);
        const reveal = (kind: ShareKind) =>
          req.shares
            .filter((s) => s.kind === kind)
            .map((s) => ({ of: s.aboutSiteId, x: s.x, share: new Uint8Array(s.share) }));
        await engine.submitUnmask(site(ctx), r.fed, r.round, {
          roundId: r.roundId,
          from: engine.siteIdOf(site(ctx), r.fed, r.round),
          keyShares: reveal(ShareKind.SHARE_KIND_MASK_KEY),
          seedShares: reveal(ShareKind.SHARE_KIND_SELF_MASK_SEED),
        });
        return none;
      },
    },
    declineRound: {
      requestType: 'DeclineRoundRequest',
      handler: async (req: DeclineRoundRequest, ctx: CallContext) => {
        const r = ref(req.round);
        const detail = `${req.detail} (spent ${req.epsilonSpent}, limit ${req.epsilonLimit}, this round ${req.roundEpsilon})`;
        await engine.decline(site(ctx), r.fed, r.round, String(req.reason), detail);
        return none;
      },
    },
  };
}
