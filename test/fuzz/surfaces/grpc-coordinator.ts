import { Metadata, type ServiceDefinition } from '@grpc/grpc-js';
import { AuditChain, headToWire, MemoryAuditLogStore, signLogHead } from '@fedistill/audit';
import type { CoordinatorStore, SiteRecord } from '@fedistill/store';
import {
  ArtifactKind,
  ArtifactsService,
  AuditService,
  DeclineReason,
  EnrolmentService,
  NodeSessionService,
  RoundsService,
  ShareKind,
} from '@fedistill/wire';
import { StageNotReadyError } from '../../../apps/coordinator/src/domain/errors';
import type { EnrolmentService as Enrolment } from '../../../apps/coordinator/src/domain/enrolment.service';
import type { NodeEventHub } from '../../../apps/coordinator/src/domain/node-event-hub';
import type { FederationService } from '../../../apps/coordinator/src/federation/federation.service';
import { artifactsMethods } from '../../../apps/coordinator/src/grpc/artifacts-service';
import { auditMethods } from '../../../apps/coordinator/src/grpc/audit-service';
import type { NodeAuthenticator } from '../../../apps/coordinator/src/grpc/node-authenticator';
import { enrolmentMethods, nodeSessionMethods } from '../../../apps/coordinator/src/grpc/node-services';
import { type MethodSpec, secureService } from '../../../apps/coordinator/src/grpc/secure-service';
import { releasedTargetsMethod } from '../../../apps/coordinator/src/rounds/released-targets';
import type { RoundEngine } from '../../../apps/coordinator/src/rounds/round-engine';
import { roundsMethods } from '../../../apps/coordinator/src/rounds/rounds-service';
import type { StudentCatalog } from '../../../apps/coordinator/src/students/student-catalog';
import { FEDERATION_SEEDS } from './configs';
import * as wire from '@fedistill/wire';
import { codecOf, fuzzMessage } from './grpc-messages';
import { fixedBytes, fixedKeys } from '../support/fixed';
import { describeError, type FuzzSurface, hexOf } from '../support/surface';

/**
 * Every coordinator RPC as a node (or anyone who reaches the port) calls it: request bytes through
 * the coordinator's own middleware (secure-service.ts: ts-proto decoding, the wire limits,
 * authentication, here a stub that accepts the caller as an enrolled site) and into the real
 * method handlers, which convert wire to domain with libs/protocol. Behind the handlers the
 * domain services are stubs that accept everything: the handlers' own checks are what is fuzzed
 * here, the round engine's are its unit tests'. A refusal is a gRPC status with details; an
 * error the status table does not know (INTERNAL, logged as unexpected) is a finding.
 */

const keys = fixedKeys(11);
const SITE: SiteRecord = {
  name: 'site-a',
  signingPublicKey: keys.signingPublicKey,
  boxPublicKey: keys.boxPublicKey,
  enrolledAt: 0,
  lastSeenAt: null,
  revokedAt: null,
  revokedReason: null,
};
let filler = 100;
const bytes = (n: number) => fixedBytes(n, (filler += 1));
const ROUND = { federationId: 'fed', round: 3 };

let welcomed: ((event: unknown) => void) | undefined;

/** Domain services that accept everything and answer with small valid values. */
function stubs() {
  const notReady = () => {
    throw new StageNotReadyError('stub: nothing to read');
  };
  const engine = {
    advertiseKeys: () => Promise.resolve(),
    roster: () => ({ roundId: 'fed#3', adverts: [] }),
    sendShares: () => Promise.resolve(),
    delivery: () => ({ roundId: 'fed#3', to: 1, sharers: [0, 1], shares: [] }),
    submitInput: () => Promise.resolve('ab'.repeat(32)),
    survivorSet: () => ({ roundId: 'fed#3', to: 1, survivors: [0, 1], dropped: [] }),
    submitSurvivorSignature: () => Promise.resolve(),
    unmaskRequest: () => ({
      roundId: 'fed#3',
      to: 1,
      survivors: [0, 1],
      dropped: [],
      signatures: [],
      sharerSignatures: [],
    }),
    siteIdOf: () => 1,
    submitUnmask: () => Promise.resolve(),
    decline: () => Promise.resolve(),
    pendingAnnouncements: () => Promise.resolve([]),
  } as unknown as RoundEngine;
  const spec = FEDERATION_SEEDS[0] as { labels: string[]; referenceSet: { sha256: string } };
  const federations = {
    forMember: (id: string) =>
      Promise.resolve({ ...spec, id, members: ['site-a'], createdAt: 0, privacyOff: false }),
    memberKeys: () => Promise.resolve([{ name: 'site-a', signingPublicKey: keys.signingPublicKey }]),
    idsOf: () => Promise.resolve(['fed']),
    artifactFor: (_site: string, sha256: string) =>
      Promise.resolve({ sha256, totalBytes: 10, chunkBytes: 10, chunkSha256: ['cd'.repeat(32)] }),
    chunk: () => Promise.resolve(new Uint8Array(10)),
  } as unknown as FederationService;
  const students = { forMember: notReady } as unknown as StudentCatalog;
  const store = { rounds: { list: () => Promise.resolve([]) } } as unknown as CoordinatorStore;
  const enrolment = {
    enroll: (r: { siteName: string }) => Promise.resolve({ ...SITE, name: r.siteName }),
  } as unknown as Enrolment;
  // Subscribe's answer is the welcome it sends on the new subscription.
  const hub = {
    subscribe: () => ({ send: (e: unknown) => welcomed?.(e), close: () => undefined }),
    noteVersion: () => undefined,
  } as unknown as NodeEventHub;
  return { engine, federations, students, store, enrolment, hub };
}

const s = stubs();
const transcript = new AuditChain(new MemoryAuditLogStore(), 'coordinator', fixedKeys(13));
const SERVICES: readonly [string, ServiceDefinition, Record<string, MethodSpec>][] = [
  [
    'Enrolment',
    EnrolmentService as unknown as ServiceDefinition,
    enrolmentMethods(s.enrolment, keys.signingPublicKey, 5000),
  ],
  [
    'NodeSession',
    NodeSessionService as unknown as ServiceDefinition,
    nodeSessionMethods(s.hub, s.federations, 5000, s.engine),
  ],
  [
    'Rounds',
    RoundsService as unknown as ServiceDefinition,
    roundsMethods(s.engine, releasedTargetsMethod(s.store, s.federations)),
  ],
  [
    'Artifacts',
    ArtifactsService as unknown as ServiceDefinition,
    artifactsMethods(s.federations, s.students),
  ],
  ['Audit', AuditService as unknown as ServiceDefinition, auditMethods(transcript, keys)],
];

const head = headToWire(signLogHead('site-a', 7, 'ef'.repeat(32), keys.signingSecretKey, 1_700_000_000_000));
const sealed = (from: number, to: number) => ({
  fromSiteId: from,
  toSiteId: to,
  nonce: bytes(24),
  ciphertext: bytes(120),
});

/** Valid requests of each method (partial messages; ts-proto fills the rest). */
const REQUESTS: Readonly<Record<string, readonly object[]>> = {
  enroll: [
    {
      token: 't'.repeat(43),
      siteName: 'st-marys',
      signingPublicKey: bytes(32),
      boxPublicKey: bytes(32),
      proof: bytes(64),
    },
  ],
  heartbeat: [{ nodeVersion: '0.1.0', activeRounds: [ROUND] }, {}],
  subscribe: [{ afterEventId: 12 }, {}],
  getFederation: [{ federationId: 'fed' }],
  advertiseKeys: [
    {
      round: ROUND,
      keys: { siteId: 1, maskPublicKey: bytes(32), sealPublicKey: bytes(32), signature: bytes(64) },
    },
  ],
  getRoundKeys: [{ round: ROUND }],
  sendShares: [{ round: ROUND, shares: [sealed(1, 0), sealed(1, 2)] }],
  fetchShares: [{ round: ROUND }],
  submitMaskedSummary: [{ round: ROUND, maskedVector: bytes(64), length: 16, sharersSignature: bytes(64) }],
  getSurvivorSet: [{ round: ROUND }],
  submitSurvivorSignature: [{ round: ROUND, signature: bytes(64) }],
  getUnmaskRequest: [{ round: ROUND }],
  submitUnmaskShares: [
    {
      round: ROUND,
      shares: [
        { aboutSiteId: 0, kind: ShareKind.SHARE_KIND_SELF_MASK_SEED, x: 2, share: bytes(33) },
        { aboutSiteId: 2, kind: ShareKind.SHARE_KIND_MASK_KEY, x: 2, share: bytes(33) },
      ],
    },
  ],
  declineRound: [
    {
      round: ROUND,
      reason: DeclineReason.DECLINE_REASON_BUDGET_EXHAUSTED,
      detail: 'over',
      epsilonSpent: 7.5,
      epsilonLimit: 8,
      roundEpsilon: 1,
    },
  ],
  getReleasedTargets: [{ federationId: 'fed', beforeRound: 3, start: 0 }],
  getManifest: [
    { federationId: 'fed', kind: ArtifactKind.ARTIFACT_KIND_REFERENCE_SET },
    { federationId: 'fed', kind: ArtifactKind.ARTIFACT_KIND_STUDENT, version: 2 },
  ],
  getChunk: [{ sha256: bytes(32), index: 0 }],
  anchorLogHead: [{ siteHead: head }],
};

/** A refused call: its gRPC status code and details. */
export class CallRefused extends Error {}

/** One call through the middleware; resolves with the response or rejects with the refusal. */
function call(
  service: { definition: ServiceDefinition; implementation: Record<string, unknown> },
  name: string,
  raw: Buffer,
  unexpected: string[],
): Promise<unknown> {
  const method = service.definition[name]!;
  const request = method.requestDeserialize(raw);
  const base = { request, metadata: new Metadata(), getPeer: () => 'ipv4:127.0.0.1:50000' };
  const refused = (err: { code?: number; details?: string }) =>
    new CallRefused(`status ${err.code}: ${err.details ?? ''}`);
  return new Promise((resolve, reject) => {
    const handler = service.implementation[name] as (...args: unknown[]) => void;
    if (!method.responseStream) {
      handler(base, (err: { code?: number; details?: string } | null, response: unknown) =>
        err ? reject(unexpected.length ? new Error(unexpected[0]) : refused(err)) : resolve(response),
      );
      return;
    }
    // Server streaming (Subscribe): the welcome sent on the subscription is the answer.
    welcomed = resolve;
    const stream = {
      ...base,
      write: () => true,
      end: () => undefined,
      on: () => stream,
      emit: (_event: string, err: { code?: number; details?: string }) =>
        reject(unexpected.length ? new Error(unexpected[0]) : refused(err)),
    };
    handler(stream);
  });
}

interface CallCase {
  readonly raw: Buffer;
}

function methodSurface(
  serviceName: string,
  definition: ServiceDefinition,
  methods: Record<string, MethodSpec>,
  name: string,
): FuzzSurface<CallCase> {
  const unexpected: string[] = [];
  const log = {
    warn: () => undefined,
    error: (obj: object) => {
      unexpected.push(`unexpected error (INTERNAL): ${describeError((obj as { err?: unknown }).err)}`);
    },
  };
  const auth = { authenticate: () => Promise.resolve(SITE) } as unknown as NodeAuthenticator;
  const service = secureService(definition, methods, serviceName === 'Enrolment' ? null : auth, log);
  const codec = codecOf(wire as unknown as Record<string, unknown>, methods[name]!.requestType);
  const seeds = (REQUESTS[name] ?? []).map((m) => Buffer.from(codec.encode(codec.fromPartial(m))));
  if (seeds.length === 0) throw new RangeError(`no valid request for ${serviceName}/${name}`);
  return {
    name: `grpc ${serviceName}/${name}`,
    generate: (rng) => {
      const raw = Buffer.from(fuzzMessage(rng, seeds, codec));
      // grpc-js refuses a larger message before any of this code runs (grpc-server.host.ts).
      return {
        raw: raw.length <= wire.MAX_WIRE_MESSAGE_BYTES ? raw : raw.subarray(0, wire.MAX_WIRE_MESSAGE_BYTES),
      };
    },
    feed: async (c) => {
      unexpected.length = 0;
      return call(service, name, c.raw, unexpected);
    },
    refusal: (err) => {
      if (!(err instanceof CallRefused)) return `threw ${describeError(err)}`;
      return /^status \d+: .*\S{3}/.test(err.message) && !/internal error/.test(err.message)
        ? undefined
        : `refusal names nothing: '${err.message}'`;
    },
    show: (c) => hexOf(c.raw, 200),
  };
}

export function coordinatorSurfaces(): FuzzSurface<CallCase>[] {
  return SERVICES.flatMap(([serviceName, definition, methods]) =>
    Object.keys(definition).map((name) => methodSurface(serviceName, definition, methods, name)),
  );
}
