import type { CoordinatorStore } from '@fedistill/store';
import type { NodeEventHub } from './node-event-hub';
import type { Transcript } from './transcript';

/** A site as the operator sees it. Times are ISO 8601 strings or null. */
export interface SiteView {
  readonly name: string;
  readonly online: boolean;
  readonly enrolledAt: string;
  readonly lastSeenAt: string | null;
  readonly revoked: boolean;
  readonly revokedAt: string | null;
  readonly revokedReason: string | null;
  /** Ed25519 public key, hex, for out-of-band verification. */
  readonly signingPublicKey: string;
  /** The node software version the site last reported in a heartbeat, or null since this start. */
  readonly nodeVersion: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Enrolled sites, their liveness and revocation. */
export class SiteService {
  constructor(
    private readonly store: CoordinatorStore,
    private readonly hub: NodeEventHub,
    private readonly offlineAfterMs: number,
    private readonly transcript: Transcript,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<SiteView[]> {
    const now = this.now();
    return (await this.store.sites.list()).map((s) => ({
      name: s.name,
      // Seen within offlineAfter, and its event stream not closed since (a node that stops says
      // goodbye by closing it: NodeEventHub.hasLeft).
      online:
        s.revokedAt === null &&
        s.lastSeenAt !== null &&
        now - s.lastSeenAt <= this.offlineAfterMs &&
        !this.hub.hasLeft(s.name),
      enrolledAt: new Date(s.enrolledAt).toISOString(),
      lastSeenAt: iso(s.lastSeenAt),
      revoked: s.revokedAt !== null,
      revokedAt: iso(s.revokedAt),
      revokedReason: s.revokedReason,
      signingPublicKey: Buffer.from(s.signingPublicKey).toString('hex'),
      nodeVersion: this.hub.versionOf(s.name),
    }));
  }

  /** Revokes the site and closes its open streams; later requests are refused. */
  async revoke(name: string, reason: string): Promise<SiteView> {
    await this.store.sites.revoke(name, this.now(), reason);
    await this.transcript.append({ event: 'revocation', peer: name, detail: reason });
    this.hub.disconnect(name, reason);
    const view = (await this.list()).find((s) => s.name === name);
    if (!view) throw new Error(`site '${name}' vanished after revocation`);
    return view;
  }
}
