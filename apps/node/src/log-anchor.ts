import { type AuditChain, headFromWire, headToWire, signLogHead, verifyLogHead } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import { AuditService } from '@fedistill/wire';
import type { NodeEgress } from './egress';

/** The coordinator answered an anchor with a head that is not validly signed by its key. */
export class AnchorRefusedError extends Error {
  override readonly name = 'AnchorRefusedError';
}

/**
 * Mutual anchoring (SPEC, privacy model item 5): the site sends its signed log head, and
 * records the coordinator's signed head in its own log, after checking the signature against
 * the coordinator key it learnt at enrolment.
 */
export class LogAnchor {
  constructor(
    private readonly egress: NodeEgress,
    private readonly chain: AuditChain,
    private readonly keys: SiteKeys,
    private readonly coordinatorKey: Uint8Array,
  ) {}

  /** One exchange; returns the coordinator head it recorded. */
  async exchange(deadlineMs = 10_000) {
    const head = await this.chain.head();
    const siteHead = signLogHead(this.chain.actor, Number(head.seq), head.hash, this.keys.signingSecretKey);
    const res = await this.egress.unary(
      AuditService.anchorLogHead,
      { siteHead: headToWire(siteHead) },
      { deadlineMs },
    );
    const theirs = headFromWire(res.coordinatorHead);
    if (!theirs || theirs.signer !== 'coordinator' || !verifyLogHead(theirs, this.coordinatorKey)) {
      await this.chain.append({
        event: 'refusal',
        kind: 'Audit/AnchorLogHead',
        peer: 'coordinator',
        detail:
          "the coordinator's log head is not signed by the key recorded at enrolment; not recorded as an anchor",
      });
      throw new AnchorRefusedError("the coordinator's log head does not verify with its enrolled key");
    }
    await this.chain.append({
      event: 'anchor',
      peer: 'coordinator',
      detail: JSON.stringify({ head: theirs }),
    });
    return theirs;
  }
}
