import type { RoundAnnouncement } from '@fedistill/wire';
import { type ApprovedRoster, keyFingerprint, readApprovedRosters, RosterFileError } from './approved-roster';
import { CoordinatorHeadWatch, describeAlarm } from './coordinator-head-watch';
import type { NodeConfig } from './node-config';

/**
 * The site will not take part in a round because of who is in it (or because its coordinator's
 * log rolled back or forked). The message is reported to the coordinator: it names sites, keys'
 * fingerprints and settings, never a local path.
 */
export class MembershipRefusedError extends Error {
  override readonly name = 'MembershipRefusedError';
}

const refuse = (m: string) => new MembershipRefusedError(m);

/** Each participant is a member of the approved roster, with exactly the approved identity key. */
function checkRoster(a: RoundAnnouncement, roster: ApprovedRoster, site: string): void {
  const approved = new Map(roster.members.map((m) => [m.site, m.signingPublicKey]));
  const names = new Set<string>();
  const ids = new Set<number>();
  for (const p of a.participants) {
    if (names.has(p.siteName) || ids.has(p.siteId))
      throw refuse(`participant '${p.siteName}' (id ${p.siteId}) appears twice in the round`);
    names.add(p.siteName);
    ids.add(p.siteId);
    const key = Buffer.from(p.signingPublicKey).toString('hex');
    const expected = approved.get(p.siteName);
    if (expected === undefined)
      throw refuse(
        `participant '${p.siteName}' is not in the roster approved for federation '${roster.federation}' (fingerprint ${roster.fingerprint})`,
      );
    if (key !== expected)
      throw refuse(
        `the identity key of participant '${p.siteName}' (fingerprint ${p.signingPublicKey.length === 32 ? keyFingerprint(p.signingPublicKey) : `of ${p.signingPublicKey.length} bytes`}) is not the approved one (${keyFingerprint(expected)})`,
      );
  }
  if (!names.has(site)) throw refuse(`this site '${site}' is not a participant of the round`);
}

/** The site's own minimums (node.yaml security) and the majority threshold SecAgg+ needs. */
function checkMinimums(a: RoundAnnouncement, security: NodeConfig['security']): void {
  const n = a.participants.length;
  if (n < security.minParticipants)
    throw refuse(
      `the round has ${n} participants; this site requires at least ${security.minParticipants} (security.minParticipants)`,
    );
  if (a.threshold < security.minThreshold)
    throw refuse(
      `the round's threshold ${a.threshold} is below this site's minimum ${security.minThreshold} (security.minThreshold)`,
    );
  const degree = a.neighbours === 0 ? n - 1 : Math.min(a.neighbours, n - 1);
  // t > k/2: a coordinator that gives two halves of a site's neighbours different survivor
  // stories can otherwise collect t shares of both its secrets (Bell et al., CCS 2020, §3).
  if (2 * a.threshold <= degree)
    throw refuse(
      `the round's threshold ${a.threshold} is not a majority of each site's ${degree} masking neighbours`,
    );
}

/**
 * Pinned membership, checked on every announcement before anything is computed or sent: the
 * coordinator's log must not have rolled back or forked, the federation's roster must have been
 * approved by this site's operator (`fedistill node federation approve`), every participant and
 * identity key must be in it, and the round must meet the site's own minimums. Peer keys in the
 * announcement are otherwise only the coordinator's word, and a coordinator that substitutes keys
 * or enrols sites it controls could open a site's sealed shares and rebuild both its secrets
 * (Bonawitz et al., CCS 2017, §6: the protocol assumes a PKI the server does not control).
 */
export function checkRoundMembership(
  a: RoundAnnouncement,
  config: Pick<NodeConfig, 'dir' | 'site' | 'security'>,
): ApprovedRoster {
  const alarm = new CoordinatorHeadWatch(config.dir).alarm();
  if (alarm)
    throw refuse(
      `${describeAlarm(alarm)}; this site answers no round until its operator acknowledges it (fedistill node log-alarm ack)`,
    );
  const federation = a.round?.federationId ?? '';
  let rosters: Map<string, ApprovedRoster>;
  try {
    rosters = readApprovedRosters(config.dir);
  } catch (err) {
    if (err instanceof RosterFileError)
      throw refuse(
        "this site's approved rosters cannot be read; its operator must approve the federation again",
      );
    throw err;
  }
  const roster = rosters.get(federation);
  if (!roster)
    throw refuse(
      `federation '${federation}' is not approved at this site: its operator must approve its roster first (fedistill node federation approve ${federation})`,
    );
  checkRoster(a, roster, config.site);
  checkMinimums(a, config.security);
  return roster;
}
