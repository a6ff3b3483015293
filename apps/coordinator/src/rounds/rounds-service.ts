import { DeclineReason, type RoundsService } from '@fedistill/wire';
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
import {
  advertFromWire,
  advertToWire,
  deliveryToWire,
  roundFromWire,
  shareFromWire,
  survivorSetToWire,
  survivorSignatureFromWire,
  unmaskRequestToWire,
  unmaskResponseFromWire,
} from '@fedistill/protocol';
import type { CallContext, MethodSpec } from '../grpc/secure-service';
import type { RoundEngine } from './round-engine';

/**
 * The Rounds service: wire requests to the round engine's use cases and back. Every conversion
 * is libs/protocol's secagg-wire.ts (the node converts with the same functions); a malformed
 * field throws WireFieldError, which grpc/grpc-status.ts maps to INVALID_ARGUMENT.
 */
const site = (ctx: CallContext): string => ctx.site?.name ?? '';
const none = {};

/**
 * A decline's reason as its name in proto/ (DECLINE_REASON_BUDGET_EXHAUSTED, ...), which the
 * round's view and the transcript show; a number this coordinator does not know stays a number.
 */
export function declineReasonName(reason: number): string {
  const name = reason >= 0 ? (DeclineReason as Record<number, string | undefined>)[reason] : undefined;
  return name ?? `DECLINE_REASON_${reason} (unknown to this coordinator)`;
}

export function roundsMethods(
  engine: RoundEngine,
  /** Rounds.GetReleasedTargets (released-targets.ts): it reads the store, not the live rounds. */
  releasedTargets: MethodSpec,
): Record<keyof typeof RoundsService, MethodSpec> {
  return {
    getReleasedTargets: releasedTargets,
    advertiseKeys: {
      requestType: 'AdvertiseKeysRequest',
      handler: async (req: AdvertiseKeysRequest, ctx: CallContext) => {
        const r = roundFromWire(req.round);
        const advert = advertFromWire(req.keys, r.roundId);
        await engine.advertiseKeys(site(ctx), r.federationId, r.round, advert);
        return none;
      },
    },
    getRoundKeys: {
      requestType: 'GetRoundKeysRequest',
      // eslint-disable-next-line @typescript-eslint/require-await
      handler: async (req: GetRoundKeysRequest, ctx: CallContext): Promise<GetRoundKeysResponse> => {
        const r = roundFromWire(req.round);
        return { keys: engine.roster(site(ctx), r.federationId, r.round).adverts.map(advertToWire) };
      },
    },
    sendShares: {
      requestType: 'SendSharesRequest',
      handler: async (req: SendSharesRequest, ctx: CallContext) => {
        const r = roundFromWire(req.round);
        const shares = req.shares.map((s, i) => shareFromWire(s, r.roundId, `shares[${i}]`));
        await engine.sendShares(site(ctx), r.federationId, r.round, shares);
        return none;
      },
    },
    fetchShares: {
      requestType: 'FetchSharesRequest',
      // eslint-disable-next-line @typescript-eslint/require-await
      handler: async (req: FetchSharesRequest, ctx: CallContext): Promise<FetchSharesResponse> => {
        const r = roundFromWire(req.round);
        return deliveryToWire(engine.delivery(site(ctx), r.federationId, r.round));
      },
    },
    submitMaskedSummary: {
      requestType: 'SubmitMaskedSummaryRequest',
      handler: async (
        req: SubmitMaskedSummaryRequest,
        ctx: CallContext,
      ): Promise<SubmitMaskedSummaryResponse> => {
        const r = roundFromWire(req.round);
        const receipt = await engine.submitInput(
          site(ctx),
          r.federationId,
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
        const r = roundFromWire(req.round);
        return survivorSetToWire(engine.survivorSet(site(ctx), r.federationId, r.round));
      },
    },
    submitSurvivorSignature: {
      requestType: 'SubmitSurvivorSignatureRequest',
      handler: async (req: SubmitSurvivorSignatureRequest, ctx: CallContext) => {
        const r = roundFromWire(req.round);
        const signature = survivorSignatureFromWire(req.signature);
        await engine.submitSurvivorSignature(site(ctx), r.federationId, r.round, signature);
        return none;
      },
    },
    getUnmaskRequest: {
      requestType: 'GetUnmaskRequestRequest',
      // eslint-disable-next-line @typescript-eslint/require-await
      handler: async (req: GetUnmaskRequestRequest, ctx: CallContext): Promise<GetUnmaskRequestResponse> => {
        const r = roundFromWire(req.round);
        return unmaskRequestToWire(engine.unmaskRequest(site(ctx), r.federationId, r.round));
      },
    },
    submitUnmaskShares: {
      requestType: 'SubmitUnmaskSharesRequest',
      handler: async (req: SubmitUnmaskSharesRequest, ctx: CallContext) => {
        const r = roundFromWire(req.round);
        const from = engine.siteIdOf(site(ctx), r.federationId, r.round);
        const response = unmaskResponseFromWire(req.shares, r.roundId, from);
        await engine.submitUnmask(site(ctx), r.federationId, r.round, response);
        return none;
      },
    },
    declineRound: {
      requestType: 'DeclineRoundRequest',
      handler: async (req: DeclineRoundRequest, ctx: CallContext) => {
        const r = roundFromWire(req.round);
        const detail = `${req.detail} (spent ${req.epsilonSpent}, limit ${req.epsilonLimit}, this round ${req.roundEpsilon})`;
        await engine.decline(site(ctx), r.federationId, r.round, declineReasonName(req.reason), detail);
        return none;
      },
    },
  };
}
