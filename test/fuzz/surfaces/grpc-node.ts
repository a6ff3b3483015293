import {
  type FederationSpec,
  advertFromWire,
  deliveryFromWire,
  encodeAnnouncement,
  parseFederationSpec,
  planEvaluationRound,
  planRound,
  secaggConfigOf,
  survivorSetFromWire,
  unmaskRequestFromWire,
  WireFieldError,
} from '@fedistill/protocol';
import { validateConfig } from '@fedistill/secagg';
import * as wire from '@fedistill/wire';
import {
  decodeOrRefuse,
  evaluationFromAnnouncement,
  releaseFromAnnouncement,
  RoundRefusal,
} from '../../../apps/node/src/announcement-checks';
import { fixedBytes } from '../support/fixed';
import { describeError, type FuzzSurface, hexOf } from '../support/surface';
import { codecOf, fuzzMessage } from './grpc-messages';

/**
 * What a node reads from the coordinator: a round announcement (inside a NodeEvent), then the
 * key roster, the share delivery, the survivor set and the unmask request of each round, each
 * through ts-proto's decoder (a decoding error fails the call in grpc-js, which the node
 * retries) and libs/protocol's mappers, as apps/node does. A malformed field must be refused
 * with WireFieldError (a RoundRefusal for an announcement) naming it. An announcement the node
 * accepts must also give a SecAggConfig that libs/secagg accepts: otherwise the node would fail
 * later with a bare RangeError instead of declining the round.
 */

/** The protobuf decoder refused the bytes (grpc-js fails the call; the node retries). */
export class UndecodableMessage extends Error {}

const SITES = ['a', 'b', 'c', 'd', 'e'].map((name, i) => ({
  name,
  signingPublicKey: String(i + 1).repeat(64),
}));
const SCHEMA = { id: 'fed', labels: ['x', 'y', 'z'], inputShape: [4] };

function federation(over: Record<string, unknown>): FederationSpec {
  const parsed = parseFederationSpec({
    id: 'fed',
    labels: SCHEMA.labels,
    input: { shape: SCHEMA.inputShape },
    referenceSet: { sha256: 'ab'.repeat(32) },
    student: { architecture: 'mlp' },
    privacy: { mechanism: 'skellam', noiseMultiplier: 2, epsilonCap: 8, assumedColluders: 1 },
    secureAggregation: { dropoutTolerance: 1, maxTeachersPerSite: 8 },
    rounds: { minSites: 3, queriesPerRound: 20 },
    ...over,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.spec;
}

function announcements(): Uint8Array[] {
  const soft = federation({});
  const votes = federation({
    privacy: { mechanism: 'discrete-gaussian', summary: 'votes', noiseMultiplier: 3, epsilonCap: 5 },
    secureAggregation: { neighbours: 4, dropoutTolerance: 2 },
  });
  const plans: [ReturnType<typeof planRound> | ReturnType<typeof planEvaluationRound>, FederationSpec][] = [
    [planRound(soft, 4, SITES, [3, 7, 11, 20, 41], 1_000), soft],
    [planRound(votes, 2, SITES, [0, 1, 2], 1_000), votes],
    [planEvaluationRound(soft, 2, SITES, 3, 1_000), soft],
  ];
  return plans.map(([plan, spec]) =>
    wire.NodeEvent.encode({
      eventId: 9,
      emittedAtUnixMs: 1_000,
      event: { $case: 'roundAnnounced', value: encodeAnnouncement(plan, spec) },
    }).finish(),
  );
}

const ANNOUNCEMENTS = announcements();
const TEACHERS = 8;

export const announcementSurface: FuzzSurface<Uint8Array> = {
  name: 'node RoundAnnouncement',
  generate: (rng) =>
    fuzzMessage(rng, ANNOUNCEMENTS, codecOf(wire as unknown as Record<string, unknown>, 'NodeEvent')),
  feed: (bytes) => {
    let event: wire.NodeEvent;
    try {
      event = wire.NodeEvent.decode(bytes);
    } catch (err) {
      throw new UndecodableMessage((err as Error).message);
    }
    if (event.event?.$case !== 'roundAnnounced') return undefined;
    const a = event.event.value;
    const terms = decodeOrRefuse(a);
    if (terms.kind === 'evaluation') evaluationFromAnnouncement(a, SCHEMA, 50, false);
    else releaseFromAnnouncement(a, SCHEMA, TEACHERS, false);
    validateConfig(secaggConfigOf(terms));
    return terms;
  },
  refusal: (err) => {
    if (err instanceof UndecodableMessage) return undefined;
    if (err instanceof RoundRefusal)
      return /\S{3}.*\S/.test(err.message) ? undefined : `names nothing: '${err.message}'`;
    return `threw ${describeError(err)}`;
  },
  show: (b) => hexOf(b, 300),
};

let filler = 200;
const bytes = (n: number) => fixedBytes(n, (filler += 1));
const sig = (siteId: number) => ({ siteId, signature: bytes(64) });

/** One coordinator answer the node maps with libs/protocol's secagg-wire. */
function answerSurface(
  type: string,
  seeds: readonly object[],
  map: (m: never) => unknown,
): FuzzSurface<Uint8Array> {
  const codec = codecOf(wire as unknown as Record<string, unknown>, type);
  const encoded = seeds.map((m) => codec.encode(codec.fromPartial(m)));
  return {
    name: `node ${type}`,
    generate: (rng) => fuzzMessage(rng, encoded, codec),
    feed: (b) => {
      let m: object;
      try {
        m = codec.decode(b);
      } catch (err) {
        throw new UndecodableMessage((err as Error).message);
      }
      return map(m as never);
    },
    refusal: (err) => {
      if (err instanceof UndecodableMessage) return undefined;
      if (err instanceof WireFieldError)
        return /^[a-z_]+(\[\d+\])?(\.[a-z_]+)*: \S/.test(err.message)
          ? undefined
          : `names no field: '${err.message}'`;
      return `threw ${describeError(err)}`;
    },
    show: (b) => hexOf(b, 300),
  };
}

const ROUND_ID = 'fed#3';
const sealed = (from: number, to: number) => ({
  fromSiteId: from,
  toSiteId: to,
  nonce: bytes(24),
  ciphertext: bytes(120),
});
const keys = (siteId: number) => ({
  siteId,
  maskPublicKey: bytes(32),
  sealPublicKey: bytes(32),
  signature: bytes(64),
});

export const nodeAnswerSurfaces = [
  answerSurface(
    'GetRoundKeysResponse',
    [{ keys: [keys(0), keys(1), keys(2)] }],
    (m: wire.GetRoundKeysResponse) => m.keys.map((k, i) => advertFromWire(k, ROUND_ID, `keys[${i}]`)),
  ),
  answerSurface(
    'FetchSharesResponse',
    [{ shares: [sealed(0, 1), sealed(2, 1)], sharers: [0, 1, 2] }],
    (m: wire.FetchSharesResponse) => deliveryFromWire(m, ROUND_ID, 1),
  ),
  answerSurface(
    'GetSurvivorSetResponse',
    [{ survivors: [0, 1, 2], dropped: [3] }],
    (m: wire.GetSurvivorSetResponse) => survivorSetFromWire(m, ROUND_ID, 1),
  ),
  answerSurface(
    'GetUnmaskRequestResponse',
    [
      {
        survivors: [0, 1],
        dropped: [2],
        survivorSignatures: [sig(0), sig(1)],
        sharerSignatures: [sig(0), sig(1)],
      },
    ],
    (m: wire.GetUnmaskRequestResponse) => unmaskRequestFromWire(m, ROUND_ID, 1),
  ),
];

export const nodeSurfaces = [announcementSurface, ...nodeAnswerSurfaces];
