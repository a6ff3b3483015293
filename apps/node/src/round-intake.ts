import type { AuditChain } from '@fedistill/audit';
import { DataFormatError } from '@fedistill/data';
import { DeclineReason, type RoundAnnouncement, RoundsService } from '@fedistill/wire';
import { RoundRefusal } from './announcement-checks';
import type { NodeEgress } from './egress';
import { checkRoundMembership, MembershipRefusedError } from './membership-check';
import type { NodeConfig } from './node-config';
import type { SessionLogger } from './node-session';
import { announcementRecord, recordReceived } from './received-log';
import { SiteDataError } from './site-data';
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

/** What the coordinator hears when the site's data or teachers do not fit the federation. */
export const UNFIT_REPORTED =
  "the site's data or teachers do not fit this federation; its operator finds why in the node's log or with `fedistill node check`";
/** ... and when the site could not get ready otherwise (the federation's copy, its reference set). */
export const UNPREPARED_REPORTED =
  "the site could not prepare for the round (federation definition, reference set or teachers); the reason is in the node's log";

/**
 * The refusal of a site that could not get ready for a round (DECLINE_REASON_UNAVAILABLE). The
 * error's message names the site's files, their columns or label values: it stays in the site's
 * log and audit log, and the coordinator is told only which kind of problem it was.
 */
export function unavailable(err: unknown): RoundRefusal {
  const unfit = err instanceof SiteDataError || err instanceof DataFormatError;
  return new RoundRefusal(
    DeclineReason.DECLINE_REASON_UNAVAILABLE,
    err instanceof Error ? err.message : String(err),
    undefined,
    unfit ? UNFIT_REPORTED : UNPREPARED_REPORTED,
  );
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
 * coordinator with the reason code and the site's epsilon figures (a refusal is never silent).
 * The coordinator gets the refusal's `reported` text where it has one: the full message may name
 * local paths or figures read from the records, which stay in the site's own logs.
 */
export async function declineRound(a: RoundAnnouncement, r: RoundRefusal, d: DeclineDeps): Promise<void> {
  const ref = a.round;
  const detail = r.message.slice(0, 500);
  const reported = (r.reported ?? r.message).slice(0, 500);
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
      detail: reported,
      epsilonSpent: r.epsilon?.spent ?? d.ledger.spent,
      epsilonLimit: r.epsilon?.limit ?? d.ledger.epsilonLimit,
      roundEpsilon: r.epsilon?.round ?? 0,
    },
    { context: { federation: ref.federationId, round: ref.round } },
  );
}
