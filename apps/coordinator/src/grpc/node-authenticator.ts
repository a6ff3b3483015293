import type { Metadata } from '@grpc/grpc-js';
import { parseRpcAuthHeaders, verifyRpcSignature } from '@fedistill/identity';
import type { CoordinatorStore, SiteRecord } from '@fedistill/store';
import { AuthenticationError, PermissionError } from '../domain/errors';
import type { Transcript } from '../domain/transcript';

/**
 * Checks the Ed25519 request signature of a node RPC (SPEC, privacy model item 6) and returns
 * the authenticated site. The signature covers the site's name and this coordinator's identity
 * key (`coordinatorKey`, the key that signs its transcript), so a request captured on its way to
 * another coordinator, or signed for another site with the same key, is refused (issue 11,
 * finding 10). The only writes happen after the signature verified: the nonce (so a replay is
 * refused) and the site's last-seen time.
 */
export class NodeAuthenticator {
  private readonly coordinator: string;

  constructor(
    coordinatorKey: Uint8Array,
    private readonly store: CoordinatorStore,
    private readonly clockSkewMs: number,
    private readonly transcript: Transcript,
    private readonly now: () => number = Date.now,
  ) {
    this.coordinator = Buffer.from(coordinatorKey).toString('hex');
  }

  async authenticate(method: string, body: Uint8Array, metadata: Metadata): Promise<SiteRecord> {
    const headers = parseRpcAuthHeaders((key) => {
      const value = metadata.get(key)[0];
      return typeof value === 'string' ? value : undefined;
    });
    if (typeof headers === 'string') throw new AuthenticationError(headers);
    const now = this.now();
    if (Math.abs(now - headers.timestamp) > this.clockSkewMs) {
      throw new AuthenticationError(
        `request timestamp ${new Date(headers.timestamp).toISOString()} is outside the allowed window of ±${this.clockSkewMs / 1000} s (check the node's clock)`,
      );
    }
    const site = await this.store.sites.get(headers.site);
    if (!site) throw new AuthenticationError(`unknown site '${headers.site}': it is not enrolled`);
    if (!verifyRpcSignature(site.signingPublicKey, method, body, headers)) {
      throw new AuthenticationError(
        `bad signature: the request is not signed by the enrolled key of site '${site.name}'`,
      );
    }
    // Checked after the signature (which covers the header), so that this refusal is only ever
    // given for a genuine request of this site, captured on its way to another coordinator.
    if (headers.coordinator !== this.coordinator) {
      throw new AuthenticationError(
        `request is meant for another coordinator (key ${headers.coordinator.slice(0, 16)}…, this one is ${this.coordinator.slice(0, 16)}…): a request signed for one coordinator is not accepted by another`,
      );
    }
    if (site.revokedAt !== null) {
      // Authenticated but not allowed: this goes on the signed transcript (unauthenticated
      // refusals only go to the operational log, or anyone could fill the transcript).
      const reason = `site '${site.name}' is revoked`;
      await this.transcript.append({
        event: 'rejected',
        peer: site.name,
        kind: method.replace(/^\/fedistill\.v1\./, ''),
        detail: reason,
      });
      throw new PermissionError(reason);
    }
    if (
      !(await this.store.replayGuard.admit(
        site.name,
        headers.nonce,
        headers.timestamp,
        now,
        2 * this.clockSkewMs,
      ))
    ) {
      throw new AuthenticationError(
        `replayed request: nonce ${headers.nonce} was already used by site '${site.name}'`,
      );
    }
    await this.store.sites.recordSeen(site.name, now);
    return site;
  }
}
