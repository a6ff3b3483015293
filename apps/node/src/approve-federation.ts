import * as path from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { assertSiteName, readSiteKeyFile } from '@fedistill/identity';
import { type FederationInfo, NodeSessionService, type WireChannel } from '@fedistill/wire';
import {
  type ApprovedRoster,
  keyFingerprint,
  readApprovedRosters,
  type RosterChanges,
  rosterChanges,
  rosterFingerprint,
  type RosterMember,
  saveApprovedRoster,
} from './approved-roster';
import { readEnrolment } from './enroll-node';
import { openNodeEgress } from './node-audit';
import { loadNodeConfig, NODE_FILES } from './node-config';

/** A roster cannot be approved (unknown federation, a coordinator answer that makes no sense...). */
export class RosterApprovalError extends Error {
  override readonly name = 'RosterApprovalError';
}

/** What the operator is asked to approve. */
export interface RosterProposal {
  readonly federation: string;
  /** This node's site. */
  readonly site: string;
  /** Ordered by site name, each with its key fingerprint. */
  readonly members: readonly (RosterMember & { readonly fingerprint: string })[];
  readonly fingerprint: string;
  /** The earlier approval of this federation, if any, and what changed since. */
  readonly previous: ApprovedRoster | undefined;
  readonly changes: RosterChanges | undefined;
}

/** The roster a coordinator's FederationInfo claims, checked for shape and for this site's own key. */
export function proposalFrom(
  info: FederationInfo,
  federation: string,
  self: { site: string; signingPublicKey: Uint8Array },
  previous: ApprovedRoster | undefined,
): RosterProposal {
  if (info.federationId !== federation)
    throw new RosterApprovalError(
      `the coordinator answered for federation '${info.federationId}', not '${federation}'`,
    );
  if (info.memberKeys.length === 0)
    throw new RosterApprovalError(
      `the coordinator sent no member identity keys for '${federation}' (is it older than this node?)`,
    );
  const members: RosterMember[] = [];
  for (const m of info.memberKeys) {
    try {
      assertSiteName(m.siteName);
    } catch (err) {
      throw new RosterApprovalError(`the coordinator lists an invalid member: ${(err as Error).message}`);
    }
    if (m.signingPublicKey.length !== 32)
      throw new RosterApprovalError(
        `member '${m.siteName}' has an identity key of ${m.signingPublicKey.length} bytes, not 32`,
      );
    if (members.some((x) => x.site === m.siteName))
      throw new RosterApprovalError(`member '${m.siteName}' is listed twice`);
    members.push({ site: m.siteName, signingPublicKey: Buffer.from(m.signingPublicKey).toString('hex') });
  }
  const keyed = new Set(members.map((m) => m.site));
  const missing = info.members.filter((m) => !keyed.has(m));
  if (missing.length > 0 || info.members.length !== members.length)
    throw new RosterApprovalError(
      `the coordinator's member list and keys disagree (${missing.join(', ') || 'extra keys'})`,
    );
  const mine = members.find((m) => m.site === self.site);
  const ownKey = Buffer.from(self.signingPublicKey).toString('hex');
  if (!mine)
    throw new RosterApprovalError(`this site '${self.site}' is not in the roster of '${federation}'`);
  if (mine.signingPublicKey !== ownKey)
    throw new RosterApprovalError(
      `the coordinator lists this site '${self.site}' with another identity key (${keyFingerprint(mine.signingPublicKey)}, this node's is ${keyFingerprint(ownKey)}): it must not be approved`,
    );
  members.sort((a, b) => (a.site < b.site ? -1 : 1));
  return {
    federation,
    site: self.site,
    members: members.map((m) => ({ ...m, fingerprint: keyFingerprint(m.signingPublicKey) })),
    fingerprint: rosterFingerprint(federation, members),
    previous,
    changes: previous ? rosterChanges(previous.members, members) : undefined,
  };
}

/**
 * `fedistill node federation approve`: fetches the federation's roster from the coordinator (a
 * claim, through the node's signed and logged egress path), lets `confirm` show it to the operator
 * and, when confirmed, stores it as this site's approved roster (mode 0600, atomically) and
 * records the approval in the site's audit log. Nothing is stored when `confirm` says no.
 */
export async function approveFederation(
  dir: string,
  federation: string,
  confirm: (proposal: RosterProposal) => Promise<boolean>,
  o: { channel?: WireChannel } = {},
): Promise<{ proposal: RosterProposal; approved: boolean }> {
  const config = loadNodeConfig(dir);
  const enrolment = readEnrolment(config.dir);
  const previous = readApprovedRosters(config.dir).get(federation);
  const keys = readSiteKeyFile(path.join(config.dir, NODE_FILES.keys));
  const { audit, egress } = openNodeEgress(config, keys, enrolment.coordinatorSigningPublicKey, o.channel);
  try {
    let info: FederationInfo;
    try {
      info = await egress.unary(NodeSessionService.getFederation, { federationId: federation });
    } catch (err) {
      const e = err as ServiceError;
      if (e.code === status.NOT_FOUND || e.code === status.INVALID_ARGUMENT)
        throw new RosterApprovalError(
          `federation '${federation}' does not exist at the coordinator, or this site is not one of its members`,
        );
      throw new RosterApprovalError(`cannot fetch federation '${federation}': ${e.details ?? e.message}`);
    }
    const proposal = proposalFrom(info, federation, { site: config.site, ...keys }, previous);
    if (!(await confirm(proposal))) return { proposal, approved: false };
    saveApprovedRoster(config.dir, {
      federation,
      fingerprint: proposal.fingerprint,
      approvedAt: new Date().toISOString(),
      members: proposal.members.map((m) => ({ site: m.site, signingPublicKey: m.signingPublicKey })),
    });
    await audit.chain.append({
      event: 'admin',
      federation,
      kind: 'node federation approve',
      detail: JSON.stringify({
        approved: 'roster',
        fingerprint: proposal.fingerprint,
        members: proposal.members.map((m) => ({ site: m.site, key: m.fingerprint })),
        changes: proposal.changes,
      }),
    });
    return { proposal, approved: true };
  } finally {
    egress.close();
    audit.close();
  }
}
