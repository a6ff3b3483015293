import type { AuditChain } from '@fedistill/audit';
import { DeclineReason, type RoundAnnouncement, RoundsService } from '@fedistill/wire';
import { RoundRefusal } from './announcement-checks';
import type { NodeEgress } from './egress';
import { checkRoundMembership, MembershipRefusedError } from './membership-check';
import type { NodeConfig } from './node-config';
import type { SessionLogger } from './node-session';
import { announcementRecord, recordReceived } from './received-log';
import type { SiteLedger } from './site-ledger';

/**
 * Records what the announcement says that decides this site's privacy (participants, key
 * fingerprints, noise plan), then refuses a round whose membership the site's operator did not
 * approve (membership-check.ts), before anything is computed or sent.
 */
export async function admitAnnouncement(
  a: RoundAnnouncement,
  audit: AuditChain,
  config: NodeConfig,
): Promise<void> {
  const where = { federation: a.round?.federationId, round: a.round?.round };
  await recordReceived(audit, 'NodeSession/RoundAnnounced', where, announcementRecord(a));
  try {
    checkRoundMembership(a, config);
  } catch (err) {
    if (!(err instanceof MembershipRefusedError)) throw err;
    throw new RoundRefusal(DeclineReason.DECLINE_REASON_MEMBERSHIP_REFUSED, err.message);
  }
}

/** What declining needs: where the refusal is recorded, logged and reported. */
export interface DeclineDeps {
  readonly audit: AuditChain;
  readonly egress: NodeEgress;
  readonly ledger: SiteLedger;
  readonly log: SessionLogger;
}

/**
 * Declines a round: a 'refusal' entry in the site's audit log, a warning, and DeclineRound to the
 * coordinator with the reason and the site's epsilon figures (a refusal is never silent).
 */
export async function declineRound(a: RoundAnnouncement, r: RoundRefusal, d: DeclineDeps): Promise<void> {
  const ref = a.round;
  const detail = r.message.slice(0, 500);
  await d.audit.append({
    event: 'refusal',
    federation: ref?.federationId,
    round: ref ? String(ref.round) : undefined,
    kind: 'Rounds/DeclineRound',
    detail: `declined round: ${detail}`,
    epsilon: r.epsilon ? String(r.epsilon.round) : undefined,
    epsilonTotal: r.epsilon ? String(r.epsilon.spent) : undefined,
    epsilonLimit: r.epsilon ? String(r.epsilon.limit) : undefined,
  });
  d.log.warn({ round: ref, reason: detail }, 'round declined');
  if (!ref) return;
  await d.egress.unary(
    RoundsService.declineRound,
    {
      round: ref,
      reason: r.reason,
      detail,
      epsilonSpent: r.epsilon?.spent ?? d.ledger.spent,
      epsilonLimit: r.epsilon?.limit ?? d.ledger.epsilonLimit,
      roundEpsilon: r.epsilon?.round ?? 0,
    },
    { context: { federation: ref.federationId, round: ref.round } },
  );
}
