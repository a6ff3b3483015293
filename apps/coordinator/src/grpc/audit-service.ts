import { type AuditChain, headFromWire, headToWire, signLogHead, verifyLogHead } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import type { AnchorLogHeadRequest, AnchorLogHeadResponse, AuditService } from '@fedistill/wire';
import { RequestInvalidError } from '../domain/errors';
import type { CallContext, MethodSpec } from './secure-service';

/**
 * Mutual anchoring, coordinator side (SPEC, privacy model item 5): check the site's signed head
 * against its enrolled key, record it in the transcript, and answer with the coordinator's own
 * signed head (which now covers that record).
 */
export function auditMethods(
  transcript: AuditChain,
  identity: SiteKeys,
): Record<keyof typeof AuditService, MethodSpec> {
  return {
    anchorLogHead: {
      requestType: 'AnchorLogHeadRequest',
      handler: async (req: AnchorLogHeadRequest, ctx: CallContext): Promise<AnchorLogHeadResponse> => {
        const site = ctx.site;
        const head = headFromWire(req.siteHead);
        if (!site || !head) throw new RequestInvalidError('AnchorLogHeadRequest: field siteHead is required');
        if (head.signer !== site.name) {
          throw new RequestInvalidError(
            `siteHead.signer '${head.signer}' is not the calling site '${site.name}'`,
          );
        }
        if (!verifyLogHead(head, site.signingPublicKey)) {
          await transcript.append({
            event: 'rejected',
            peer: site.name,
            kind: 'Audit/AnchorLogHead',
            detail: 'site log head signature does not verify',
          });
          throw new RequestInvalidError("siteHead.signature does not verify with the site's enrolled key");
        }
        await transcript.append({ event: 'anchor', peer: site.name, detail: JSON.stringify({ head }) });
        const own = await transcript.head();
        return {
          coordinatorHead: headToWire(
            signLogHead('coordinator', Number(own.seq), own.hash, identity.signingSecretKey),
          ),
        };
      },
    },
  };
}
