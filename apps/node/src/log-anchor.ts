import { type AuditChain, headFromWire, headToWire, signLogHead, verifyLogHead } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import { AuditService } from '@fedistill/wire';
import { type CoordinatorHeadWatch, describeAlarm } from './coordinator-head-watch';
import type { NodeEgress } from './egress';
import type { SessionLogger } from './node-session';

/** The coordinator answered an anchor with a head that is not validly signed by its key. */
export class AnchorRefusedError extends Error {
  override readonly name = 'AnchorRefusedError';
}

/** The coordinator signed a head that rolls its log back or forks it (see CoordinatorHeadWatch). */
export class CoordinatorLogAlarmError extends Error {
  override readonly name = 'CoordinatorLogAlarmError';
}

/**
 * Mutual anchoring (SPEC, privacy model item 5): the site sends its signed log head, and
 * records the coordinator's signed head in its own log, after checking the signature against
 * the coordinator key it learnt at enrolment. With a `watch`, each head is also compared with the
 * last one this node accepted: a rollback or fork is logged as an error, recorded in the site's
 * log as 'rejected' with both heads, and raises the alarm that stops the node answering rounds.
 */
export class LogAnchor {
  constructor(
    private readonly egress: NodeEgress,
    private readonly chain: AuditChain,
    private readonly keys: SiteKeys,
    private readonly coordinatorKey: Uint8Array,
    private readonly watch?: CoordinatorHeadWatch,
    private readonly log?: SessionLogger,
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
    const verdict = this.watch?.observe(theirs) ?? { kind: 'ok' };
    if (verdict.kind !== 'ok') {
      const detail = describeAlarm(verdict);
      this.log?.error(
        { last: verdict.last, received: verdict.received },
        `${detail}; this node answers no round until its operator runs \`fedistill node log-alarm ack\``,
      );
      await this.chain.append({
        event: 'rejected',
        kind: 'Audit/AnchorLogHead',
        peer: 'coordinator',
        detail: JSON.stringify({
          alarm: verdict.kind,
          reason: detail,
          last: verdict.last,
          received: verdict.received,
        }),
      });
      throw new CoordinatorLogAlarmError(detail);
    }
    await this.chain.append({
      event: 'anchor',
      peer: 'coordinator',
      detail: JSON.stringify({ head: theirs }),
    });
    return theirs;
  }
}
