/**
 * "Fewer than t colluders learn nothing": a coordinator that runs the round honestly but colludes
 * with t - 1 of the target's neighbours, which hand it their whole SiteState (their own mask
 * secrets and seeds, every key share and seed share they received). The target survives, so the
 * coordinator legitimately rebuilds the target's self-mask seed; to read the target's input it
 * must also remove the pairwise masks with the honest neighbours, which needs the target's mask
 * secret (or theirs), shared t-of-k. With t - 1 shares Shamir reveals nothing about it, so the
 * estimate stays masked by PRG streams the adversary cannot compute (Bonawitz et al., CCS 2017,
 * §6 (security analysis against an actively malicious server): the server plus fewer than t clients learn only the sum of the honest inputs;
 * Bell et al., CCS 2020, §3: the same per neighbourhood of the random graph). The control gives
 * the same adversary t colluders and watches it recover the input exactly, so the negative
 * result is a property of the protocol, not of broken attack code.
 */
import { type SecAggConfig, neighbourGraph } from './config';
import { x25519PublicKey } from './curve';
import { bytesEqual } from './bytes';
import { SecAggCoordinator } from './coordinator';
import { rosterGraphSeed } from './graph-seed';
import { pairMask, reduceToRing, selfMask } from './masks';
import type { KeyRoster, MaskedInput, UnmaskResponse } from './messages';
import { applyMasks } from './prg';
import { seededRandom } from './random';
import { type Share, shamirCombine } from './shamir';
import { makeIdentities } from './simulate';
import { SecAggSite } from './site';
import type { SiteState } from './site-state';

const TARGET = 1;
const D = 64;
const mesh = (n: number, t: number): SecAggConfig => ({
  roundId: 'fed#collusion',
  siteIds: Array.from({ length: n }, (_, i) => i + 1),
  threshold: t,
  neighbours: 'all',
  bits: 32,
  maxInput: 1000,
  length: D,
});
const FULL_MESH = mesh(10, 5);
const GRAPH: SecAggConfig = { ...mesh(12, 3), neighbours: 4 };

/** Everything the coordinator saw while relaying an honest round: its whole view. */
interface CoordinatorView {
  readonly config: SecAggConfig;
  readonly roster: KeyRoster;
  readonly graph: ReadonlyMap<number, readonly number[]>;
  /** Each site's masked input as it passed through (the relay sees them one by one). */
  readonly masked: ReadonlyMap<number, MaskedInput>;
  readonly responses: readonly UnmaskResponse[];
  readonly sum: Uint32Array;
  /** The sites' final states: the colluders' are handed over, the others are ground truth only. */
  readonly states: ReadonlyMap<number, SiteState>;
  readonly inputs: ReadonlyMap<number, Uint32Array>;
}

/** Drives the real state machines through all five rounds with nobody dropping (as simulate.ts). */
function honestRound(config: SecAggConfig, seed: number): CoordinatorView {
  const identities = makeIdentities(config.siteIds, seededRandom(seed));
  const identityKeys = new Map([...identities].map(([id, kp]) => [id, kp.publicKey]));
  const random = seededRandom(seed + 1);
  const inputRandom = seededRandom(seed + 2);
  const inputs = new Map(
    config.siteIds.map((id) => {
      const raw = new Uint32Array(inputRandom.fill(new Uint8Array(4 * D)).buffer);
      return [id, raw.map((v) => v % (config.maxInput + 1))];
    }),
  );
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
  const coordinator = SecAggCoordinator.create({ config, identityKeys });
  for (const site of sites.values()) coordinator.receiveKeys(site.advertiseKeys());
  const roster = coordinator.closeKeys()!;
  for (const [id, site] of sites) coordinator.receiveShares(id, site.shareKeys(roster));
  const masked = new Map<number, MaskedInput>();
  for (const d of coordinator.closeShares()!) {
    const m = sites.get(d.to)!.maskInput(d, inputs.get(d.to)!);
    masked.set(d.to, m);
    coordinator.receiveMaskedInput(m);
  }
  for (const set of coordinator.closeInputs()!)
    coordinator.receiveSurvivorSignature(sites.get(set.to)!.signSurvivors(set));
  for (const r of coordinator.closeConsistency()!) coordinator.receiveUnmask(sites.get(r.to)!.unmask(r));
  // The coordinator's view holds every answer it received (an honest one drops them at the end).
  const responses = coordinator.state.responses;
  const outcome = coordinator.finish();
  if (outcome.status !== 'done') throw new Error(`honest round failed: ${outcome.reason}`);
  const graph = neighbourGraph(config, rosterGraphSeed(config.roundId, roster.adverts));
  const states = new Map([...sites].map(([id, s]) => [id, s.state]));
  return {
    config,
    roster,
    graph,
    masked,
    responses,
    sum: outcome.sum,
    states,
    inputs,
  };
}

/** What the adversary concludes: whether it holds the target's mask secret, and its input estimate. */
interface AttackResult {
  readonly keyRecovered: boolean;
  readonly estimate: Uint32Array;
}

/**
 * The adversary: the coordinator's view plus the colluders' states. Seed of the target from the
 * revealed seed shares (legitimate, the target survived); the target's mask secret by Shamir from
 * every key share of it the colluders hold, checked against the target's signed mask public key;
 * then masked - PRG(seed) - each pairwise mask: with a colluder from the colluder's own secret,
 * with an honest neighbour from the rebuilt target secret, or from that neighbour's own secret
 * rebuilt the same way if that checks instead; failing both, the best guess (the candidate).
 */
function attack(view: CoordinatorView, colluders: readonly number[]): AttackResult {
  const { config, roster } = view;
  const pk = new Map(roster.adverts.map((a) => [a.siteId, a.maskPublicKey]));
  const leaked = colluders.map((id) => view.states.get(id)!);
  const rebuild = (of: number): { secret: Uint8Array; checks: boolean } | undefined => {
    const shares: Share[] = leaked.flatMap((s) => {
      const h = s.held[of];
      return h ? [{ x: h.x, y: h.keyShare }] : [];
    });
    if (shares.length === 0) return undefined;
    const secret = shamirCombine(shares);
    return { secret, checks: bytesEqual(x25519PublicKey(secret), pk.get(of)!) };
  };
  const seedShares = new Map<number, Uint8Array>();
  for (const r of view.responses)
    for (const s of r.seedShares) if (s.of === TARGET) seedShares.set(s.x, s.share);
  const seed = shamirCombine([...seedShares].map(([x, y]) => ({ x, y })));
  const target = rebuild(TARGET);
  const { roundId } = config;
  const streams = [selfMask(roundId, TARGET, seed, -1)];
  // The target masked with every neighbour that shared; nobody dropped, so with all of them.
  for (const v of view.graph.get(TARGET)!) {
    const colluder = view.states.get(v)!;
    if (colluders.includes(v)) {
      streams.push(pairMask(roundId, TARGET, v, colluder.maskSecret, pk.get(TARGET)!, -1));
      continue;
    }
    const other = rebuild(v);
    if (other?.checks) streams.push(pairMask(roundId, TARGET, v, other.secret, pk.get(TARGET)!, -1));
    else if (target) streams.push(pairMask(roundId, TARGET, v, target.secret, pk.get(v)!, -1));
  }
  const estimate = view.masked.get(TARGET)!.vector.slice();
  applyMasks(estimate, streams);
  reduceToRing(estimate, 32);
  return { keyRecovered: target?.checks ?? false, estimate };
}

function agreeing(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same;
}

describe('a coordinator colluding with neighbours of the target (honest-but-curious server)', () => {
  it.each([
    ['full mesh n = 10, t = 5', FULL_MESH, 101],
    ['neighbour graph n = 12, k = 4, t = 3', GRAPH, 202],
  ])('%s: with t - 1 colluding neighbours the target input stays hidden', (_, config, seed) => {
    const view = honestRound(config, seed);
    const t = config.threshold;
    const neighbours = view.graph.get(TARGET)!;
    const colluders = neighbours.slice(0, t - 1);
    // The colluders really hold t - 1 shares of the target's secrets and the coordinator its seed.
    expect(colluders.filter((c) => view.states.get(c)!.held[TARGET])).toHaveLength(t - 1);
    const { keyRecovered, estimate } = attack(view, colluders);
    expect(keyRecovered).toBe(false);
    const truth = view.inputs.get(TARGET)!;
    // A wrong PRG stream leaves each coordinate uniform in Z_2^32: a match has odds 2^-32 each.
    expect(agreeing(estimate, truth)).toBeLessThanOrEqual(1);
    // Entries the target could have sent are at most maxInput; the estimate is out of range.
    expect(estimate.filter((v) => v <= config.maxInput).length).toBeLessThanOrEqual(1);
  });

  it.each([
    ['full mesh n = 10, t = 5', FULL_MESH, 101],
    ['neighbour graph n = 12, k = 4, t = 3', GRAPH, 202],
  ])(
    'control, %s: the same adversary with t colluding neighbours recovers the input exactly',
    (_, config, seed) => {
      const view = honestRound(config, seed);
      const colluders = view.graph.get(TARGET)!.slice(0, config.threshold);
      const { keyRecovered, estimate } = attack(view, colluders);
      expect(keyRecovered).toBe(true);
      expect(Array.from(estimate)).toEqual(Array.from(view.inputs.get(TARGET)!));
    },
  );
});
