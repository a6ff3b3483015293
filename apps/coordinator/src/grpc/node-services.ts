import type { ServerWritableStream } from '@grpc/grpc-js';
import {
  type EnrollRequest,
  type FederationInfo,
  type GetFederationRequest,
  type EnrollResponse,
  EnrolmentService as EnrolmentServiceDefinition,
  type HeartbeatRequest,
  type HeartbeatResponse,
  NodeSessionService,
  type NodeEvent,
  type SubscribeRequest,
} from '@fedistill/wire';
import type { EnrolmentService } from '../domain/enrolment.service';
import { RequestInvalidError } from '../domain/errors';
import type { NodeEventHub } from '../domain/node-event-hub';
import type { RoundEngine } from '../rounds/round-engine';
import type { FederationService } from '../federation/federation.service';
import { nodeEventOf } from './round-event-relay';
import type { CallContext, MethodSpec } from './secure-service';

/** Wire <-> domain conversion for enrolment: the only place that touches its generated types. */
export function enrolmentMethods(
  enrolment: EnrolmentService,
  coordinatorSigningPublicKey: Uint8Array,
  heartbeatIntervalMs: number,
): Record<keyof typeof EnrolmentServiceDefinition, MethodSpec> {
  return {
    enroll: {
      requestType: 'EnrollRequest',
      handler: async (req: EnrollRequest): Promise<EnrollResponse> => {
        const site = await enrolment.enroll({
          token: req.token,
          siteName: req.siteName,
          signingPublicKey: req.signingPublicKey,
          boxPublicKey: req.boxPublicKey,
          proof: req.proof,
        });
        return {
          siteName: site.name,
          coordinatorSigningPublicKey: Buffer.from(coordinatorSigningPublicKey),
          heartbeatIntervalMs,
          enrolledAtUnixMs: site.enrolledAt,
        };
      },
    },
  };
}

/** Wire <-> domain conversion for the node session. */
export function nodeSessionMethods(
  hub: NodeEventHub,
  federations: FederationService,
  heartbeatIntervalMs: number,
  rounds?: Pick<RoundEngine, 'pendingAnnouncements'>,
  /** The latest published student of a federation (repeated to a site that reconnects). */
  latestStudent?: (federationId: string) => Promise<{ version: number; sha256: string } | undefined>,
  now: () => number = Date.now,
): Record<keyof typeof NodeSessionService, MethodSpec> {
  return {
    heartbeat: {
      requestType: 'HeartbeatRequest',
      // The authenticator already recorded the call as "seen"; the node's version is kept for the
      // operator's view (the dashboard's sites page); the answer carries the clock.
      // eslint-disable-next-line @typescript-eslint/require-await
      handler: async (req: HeartbeatRequest, ctx: CallContext): Promise<HeartbeatResponse> => {
        // Shown to operators: a short printable string, or the heartbeat is refused.
        if (!/^[\x20-\x7e]{0,64}$/.test(req.nodeVersion))
          throw new RequestInvalidError("'node_version' must be at most 64 printable ASCII characters");
        if (ctx.site) hub.noteVersion(ctx.site.name, req.nodeVersion);
        return { serverTimeUnixMs: now(), heartbeatIntervalMs };
      },
    },
    subscribe: {
      requestType: 'SubscribeRequest',
      handler: async (
        _req: SubscribeRequest,
        ctx: CallContext,
        stream: ServerWritableStream<unknown, unknown>,
      ) => {
        const site = ctx.site?.name ?? '';
        // One stream per site: this one replaces (and ends) any older stream of the site.
        const subscription = hub.subscribe(site, {
          send: (event: NodeEvent) => stream.write(event),
          end: () => stream.end(),
        });
        stream.on('cancelled', () => subscription.close());
        stream.on('close', () => subscription.close());
        const federationIds = await federations.idsOf(site);
        // The welcome and any pending announcement go to this new stream only: the site asked
        // for them by subscribing, and no other stream of it is open any more.
        subscription.send({ $case: 'welcome', value: { siteName: site, federationIds } });
        // A site that (re)connects while a round it is invited to still waits for its keys
        // gets that round's announcement again: an announcement pushed while it was away is
        // not lost.
        for (const event of (await rounds?.pendingAnnouncements(site)) ?? [])
          subscription.send(nodeEventOf(event));
        // The same for the latest student of each federation: one published while the site was
        // away (or while the coordinator restarted) reaches it now; the node skips a student it
        // already verified.
        for (const federationId of federationIds) {
          const student = await latestStudent?.(federationId);
          if (student)
            subscription.send({
              $case: 'studentPublished',
              value: { federationId, version: student.version, sha256: Buffer.from(student.sha256, 'hex') },
            });
        }
      },
    },
    getFederation: {
      requestType: 'GetFederationRequest',
      handler: async (req: GetFederationRequest, ctx: CallContext): Promise<FederationInfo> => {
        const view = await federations.forMember(req.federationId, ctx.site?.name ?? '');
        const { members, createdAt: _createdAt, privacyOff: _privacyOff, ...spec } = view;
        return {
          federationId: view.id,
          specJson: JSON.stringify(spec),
          referenceSha256: Buffer.from(view.referenceSet.sha256, 'hex'),
          members: [...members],
          memberKeys: (await federations.memberKeys(view.id, ctx.site?.name ?? '')).map((m) => ({
            siteName: m.name,
            signingPublicKey: Buffer.from(m.signingPublicKey),
          })),
        };
      },
    },
  };
}
