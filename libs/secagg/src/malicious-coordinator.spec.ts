/**
 * A coordinator that deviates from the protocol (issue 11, findings 1 and 2), played by real code
 * that relays between real SecAggSite state machines and then tries to compute the target's
 * input from everything the sites gave it (seed via Shamir, pairwise masks via rebuilt keys).
 */
import { type SecAggConfig, neighbourGraph } from './config';
import { x25519PublicKey } from './curve';
import { bytesEqual } from './bytes';
import { ShareRejectedError, StageError, UnmaskRefusedError } from './errors';
import { rosterGraphSeed } from './graph-seed';
import { pairMask, reduceToRing, selfMask } from './masks';
import type {
  KeyRoster,
  MaskedInput,
  SealedShare,
  SiteSignature,
  SurvivorSet,
  UnmaskRequest,
  UnmaskResponse,
} from './messages';
import { applyMasks } from './prg';
import { seededRandom } from './random';
import { type Share, shamirCombine } from './shamir';
import { makeIdentities } from './simulate';
import { SecAggSite } from './site';

const TARGET = 1;
const mesh = (n: number, t: number): SecAggConfig => ({
  roundId: 'fed#7',
  siteIds: Array.from({ length: n }, (_, i) => i + 1),
  threshold: t,
  neighbours: 'all',
  bits: 32,
  maxInput: 1000,
  length: 4,
});
const FULL_MESH = mesh(10, 5);
const GRAPH: SecAggConfig = { ...mesh(12, 3), neighbours: 4 };

/** What the malicious coordinator holds after relaying the first two rounds honestly. */
interface Relay {
  readonly config: SecAggConfig;
  readonly sites: Map<number, SecAggSite>;
  readonly roster: KeyRoster;
  readonly shares: SealedShare[];
  readonly graph: ReadonlyMap<number, readonly number[]>;
  readonly inputs: Map<number, Uint32Array>;
}

function relayKeysAndShares(config: SecAggConfig): Relay {
  const identities = makeIdentities(config.siteIds, seededRandom(11));
  const identityKeys = new Map([...identities].map(([id, kp]) => [id, kp.publicKey]));
  const random = seededRandom(12);
  const sites = new Map(
    config.siteIds.map((siteId) => [
      siteId,
      SecAggSite.create({
        config,
        siteId,
        identitySecretKey: identities.get(siteId)!.secretKey,
        identityKeys,
        random,
      }),
    ]),
  );
  const roster = { roundId: config.roundId, adverts: [...sites.values()].map((s) => s.advertiseKeys()) };
  const shares = [...sites.values()].flatMap((s) => s.shareKeys(roster));
  const graph = neighbourGraph(config, rosterGraphSeed(config.roundId, roster.adverts));
  const inputs = new Map(config.siteIds.map((id) => [id, Uint32Array.of(id, 7 * id, 500, 999 - id)]));
  return { config, sites, roster, shares, graph, inputs };
}

/** Delivers `sharers` to `to` (with the shares they sent it) and returns its masked input, or the refusal. */
function deliver(r: Relay, to: number, sharers: readonly number[]): MaskedInput | Error {
  const shares = r.shares.filter((s) => s.to === to && sharers.includes(s.from));
  try {
    return r.sites.get(to)!.maskInput({ roundId: r.config.roundId, to, sharers, shares }, r.inputs.get(to)!);
  } catch (e) {
    return e as Error;
  }
}

function attempt<T>(f: () => T): T | Error {
  try {
    return f();
  } catch (e) {
    return e as Error;
  }
}

/**
 * The adversary's last step: input = masked - PRG(seed) - sum of the pairwise masks, with the
 * seed rebuilt from t revealed seed shares and each peer's mask key from t revealed key shares
 * (checked against the peer's signed key). `maskedWith`: the peers the coordinator made the
 * target mask with. Returns what it could not rebuild, or the candidate input.
 */
function recoverInput(
  r: Relay,
  masked: MaskedInput,
  maskedWith: readonly number[],
  responses: readonly UnmaskResponse[],
): { missing: string } | { input: Uint32Array } {
  const t = r.config.threshold;
  const collect = (of: number, kind: 'keyShares' | 'seedShares'): Share[] => {
    const out = new Map<number, Uint8Array>();
    for (const resp of responses) for (const s of resp[kind]) if (s.of === of) out.set(s.x, s.share);
    return [...out].map(([x, y]) => ({ x, y }));
  };
  const seedShares = collect(TARGET, 'seedShares');
  if (seedShares.length < t) return { missing: `target seed: ${seedShares.length} of ${t} shares` };
  const pk = new Map(r.roster.adverts.map((a) => [a.siteId, a.maskPublicKey]));
  const vector = masked.vector.slice();
  const streams = [selfMask(r.config.roundId, TARGET, shamirCombine(seedShares.slice(0, t)), -1)];
  for (const v of maskedWith) {
    const keyShares = collect(v, 'keyShares');
    if (keyShares.length < t) return { missing: `key of site ${v}: ${keyShares.length} of ${t} shares` };
    const secret = shamirCombine(keyShares.slice(0, t));
    if (!bytesEqual(x25519PublicKey(secret), pk.get(v)!))
      return { missing: `key of site ${v} does not check` };
    streams.push(pairMask(r.config.roundId, TARGET, v, secret, pk.get(TARGET)!, -1));
  }
  applyMasks(vector, streams);
  reduceToRing(vector, 32);
  return { input: vector };
}

function expectNothingRecovered(
  r: Relay,
  masked: MaskedInput | undefined,
  maskedWith: readonly number[],
  responses: readonly UnmaskResponse[],
): void {
  if (!masked) return; // the target never sent a masked input: there is nothing to unmask
  const out = recoverInput(r, masked, maskedWith, responses);
  if ('input' in out) expect(Array.from(out.input)).not.toEqual(Array.from(r.inputs.get(TARGET)!));
  else expect(out.missing).toMatch(/shares|does not check/);
}

describe('a malicious coordinator against the sites', () => {
  it('control: given t seed shares and t key shares of every peer, the adversary code recovers the input', () => {
    // Validates the adversary: if sites revealed what the attacks below ask for, it would work.
    const r = relayKeysAndShares(FULL_MESH);
    const masked = deliver(r, TARGET, FULL_MESH.siteIds) as MaskedInput;
    const peers = FULL_MESH.siteIds.filter((id) => id !== TARGET);
    for (const id of peers) deliver(r, id, FULL_MESH.siteIds);
    const leaked: UnmaskResponse[] = peers.map((from) => {
      const held = r.sites.get(from)!.state.held;
      const seedShares = [{ of: TARGET, x: held[TARGET]!.x, share: held[TARGET]!.seedShare }];
      const keyShares = peers
        .filter((v) => v !== from)
        .map((v) => ({ of: v, x: held[v]!.x, share: held[v]!.keyShare }));
      return { roundId: FULL_MESH.roundId, from, keyShares, seedShares };
    });
    const out = recoverInput(r, masked, peers, leaked);
    expect('input' in out && Array.from(out.input)).toEqual(Array.from(r.inputs.get(TARGET)!));
  });

  it.each([
    ['full mesh n = 10, t = 5', FULL_MESH],
    ['neighbour graph n = 12, k = 4, t = 3', GRAPH],
  ])('finding 1, %s: "only you shared" is refused, so no input rests on its self mask alone', (_, config) => {
    const r = relayKeysAndShares(config);
    const neighbours = r.graph.get(TARGET)!;
    // Only the target; then the target and t - 1 neighbours; then padded with an invented id.
    const lies = [
      [TARGET],
      [TARGET, ...neighbours.slice(0, config.threshold - 1)],
      [TARGET, ...neighbours.slice(0, config.threshold - 1), 77],
      // Everyone but the target's other neighbours: enough sharers, too few of them neighbours.
      config.siteIds.filter((id) => !neighbours.slice(config.threshold - 1).includes(id)),
    ];
    for (const sharers of lies) expect(deliver(r, TARGET, sharers)).toBeInstanceOf(ShareRejectedError);
    expect(r.sites.get(TARGET)!.stage).toBe('shared');
    // Unmask requests to the neighbours: they are not in the consistency round, so they refuse.
    const everyone = config.siteIds;
    const responses: UnmaskResponse[] = [];
    for (const w of neighbours) {
      deliver(r, w, everyone);
      const request = {
        roundId: config.roundId,
        to: w,
        survivors: everyone,
        dropped: [],
        signatures: [],
        sharerSignatures: [],
      };
      const out = attempt(() => r.sites.get(w)!.unmask(request));
      expect(out).toBeInstanceOf(StageError);
      if (!(out instanceof Error)) responses.push(out);
    }
    expect(responses).toHaveLength(0);
  });

  it.each([
    ['full mesh n = 10, t = 5', FULL_MESH],
    ['neighbour graph n = 12, k = 4, t = 3', GRAPH],
  ])(
    'finding 2, %s: per-helper views padded with invented ids are refused; nothing is recoverable',
    (_, config) => {
      const r = relayKeysAndShares(config);
      const masked = new Map(config.siteIds.map((id) => [id, deliver(r, id, config.siteIds) as MaskedInput]));
      const peers = r.graph.get(TARGET)!;
      const responses: UnmaskResponse[] = [];
      for (const w of config.siteIds.filter((id) => id !== TARGET)) {
        // Helper w alone is told: w and the target survived (padded to the floor with invented
        // ids), every other real site dropped: w reveals the target's seed and their keys.
        const invented = [201, 202, 203, 204, 205].slice(0, Math.max(0, config.threshold - 2));
        const survivors = [w, TARGET, ...invented];
        const dropped = config.siteIds.filter((id) => !survivors.includes(id));
        const set: SurvivorSet = { roundId: config.roundId, to: w, survivors, dropped };
        const signed = attempt(() => r.sites.get(w)!.signSurvivors(set));
        expect(signed).toBeInstanceOf(UnmaskRefusedError);
        expect((signed as Error).message).toMatch(/not in the sharer set we masked against/);
        const forged: SiteSignature[] = survivors.map((siteId) => ({
          siteId,
          signature: new Uint8Array(64),
        }));
        const out = attempt(() =>
          r.sites.get(w)!.unmask({ ...set, signatures: forged, sharerSignatures: forged }),
        );
        expect(out).toBeInstanceOf(Error);
        if (!(out instanceof Error)) responses.push(out);
      }
      expectNothingRecovered(r, masked.get(TARGET), peers, responses);
      for (const site of r.sites.values()) expect(site.state.revealed).toEqual({});
    },
  );

  it.each([
    ['full mesh n = 10, t = 5', FULL_MESH],
    ['neighbour graph n = 12, k = 4, t = 3', GRAPH],
  ])('finding 2, %s: two consistent but different views cannot both gather a quorum', (_, config) => {
    // Without invented ids: group A is told "the target survived, B dropped", group B "A
    // dropped"; each group signs its own set. With t signatures sufficing, A would reveal the
    // target's seed and B the keys of A's members (and A those of B's): the target's input.
    const r = relayKeysAndShares(config);
    const masked = new Map(config.siteIds.map((id) => [id, deliver(r, id, config.siteIds) as MaskedInput]));
    const sharerSignatures = [...masked.values()].map((m) => ({
      siteId: m.from,
      signature: m.sharersSignature,
    }));
    const others = config.siteIds.filter((id) => id !== TARGET);
    const half = Math.ceil(others.length / 2);
    const groupA = others.slice(0, half);
    const groupB = [TARGET, ...others.slice(half)];
    const views = [
      { signers: groupA, survivors: [TARGET, ...groupA] },
      { signers: groupB, survivors: groupB },
    ];
    const responses: UnmaskResponse[] = [];
    for (const view of views) {
      const survivors = [...view.survivors].sort((a, b) => a - b);
      const dropped = config.siteIds.filter((id) => !survivors.includes(id));
      const signatures: SiteSignature[] = [];
      for (const w of view.signers) {
        const sig = attempt(() =>
          r.sites.get(w)!.signSurvivors({ roundId: config.roundId, to: w, survivors, dropped }),
        );
        if (!(sig instanceof Error)) signatures.push({ siteId: w, signature: sig.signature });
      }
      for (const w of view.signers) {
        const request: UnmaskRequest = {
          roundId: config.roundId,
          to: w,
          survivors,
          dropped,
          signatures,
          sharerSignatures,
        };
        const out = attempt(() => r.sites.get(w)!.unmask(request));
        expect(out).toBeInstanceOf(Error);
        expect((out as Error).message).toMatch(/signed the survivor set|not 'consistent'/);
        if (!(out instanceof Error)) responses.push(out);
      }
      // A site signs one set per round: asking group A to sign B's view as well is refused.
      const other = views.find((v) => v !== view)!;
      const w = view.signers.find(
        (id) => !other.survivors.includes(id) && r.sites.get(id)!.stage === 'consistent',
      );
      if (w !== undefined) {
        const s2 = [...other.survivors, w].sort((a, b) => a - b);
        const again = {
          roundId: config.roundId,
          to: w,
          survivors: s2,
          dropped: config.siteIds.filter((id) => !s2.includes(id)),
        };
        expect(() => r.sites.get(w)!.signSurvivors(again)).toThrow(/already signed another survivor set/);
      }
    }
    expectNothingRecovered(r, masked.get(TARGET), r.graph.get(TARGET)!, responses);
    for (const site of r.sites.values()) expect(site.state.revealed).toEqual({});
  });

  it('a survivor that did not sign the sharer set we masked against keeps its seed', () => {
    const r = relayKeysAndShares(FULL_MESH);
    const all = FULL_MESH.siteIds;
    const masked = all.map((id) => deliver(r, id, all) as MaskedInput);
    const set = { roundId: FULL_MESH.roundId, survivors: all, dropped: [] };
    const signatures = all.map((id) => ({
      siteId: id,
      signature: r.sites.get(id)!.signSurvivors({ ...set, to: id }).signature,
    }));
    // The target's attestation is replaced by one over another sharer set (as if it had been told one).
    const sharerSignatures = masked.map((m) => ({
      siteId: m.from,
      signature: m.from === TARGET ? masked[1]!.sharersSignature : m.sharersSignature,
    }));
    const request = { ...set, to: 2, signatures, sharerSignatures };
    expect(() => r.sites.get(2)!.unmask(request)).toThrow(/survivor 1 did not sign the sharer set/);
    expect(
      r.sites.get(2)!.unmask({
        ...request,
        sharerSignatures: masked.map((m) => ({ siteId: m.from, signature: m.sharersSignature })),
      }).seedShares,
    ).toHaveLength(9);
  });
});
