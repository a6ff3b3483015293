import type { SecAggConfig } from './config';
import { consistencyQuorum } from './consistency';
import { SecAggCoordinator } from './coordinator';
import { ForgedKeyError, StageError } from './errors';
import type { MaskedInput } from './messages';
import { seededRandom } from './random';
import { decodeState, encodeState } from './serialize';
import { makeIdentities } from './simulate';
import { SecAggSite } from './site';

const config: SecAggConfig = {
  roundId: 'fed#2',
  siteIds: [1, 2, 3, 4, 5, 6],
  threshold: 3,
  neighbours: 'all',
  bits: 32,
  maxInput: 100,
  length: 2,
};
const identities = makeIdentities(config.siteIds, seededRandom(3));
const identityKeys = new Map([...identities].map(([id, kp]) => [id, kp.publicKey]));
const options = (siteId: number) => ({
  config,
  siteId,
  identitySecretKey: identities.get(siteId)!.secretKey,
  identityKeys,
});

function toInputs(): {
  sites: Map<number, SecAggSite>;
  coordinator: SecAggCoordinator;
  masked: MaskedInput[];
} {
  const random = seededRandom(4);
  const sites = new Map(config.siteIds.map((id) => [id, SecAggSite.create({ ...options(id), random })]));
  const coordinator = SecAggCoordinator.create({ config, identityKeys });
  for (const s of sites.values()) coordinator.receiveKeys(s.advertiseKeys());
  const roster = coordinator.closeKeys()!;
  for (const [id, s] of sites) coordinator.receiveShares(id, s.shareKeys(roster));
  const masked = coordinator
    .closeShares()!
    .map((d) => sites.get(d.to)!.maskInput(d, Uint32Array.of(d.to, 1)));
  return { sites, coordinator, masked };
}

describe(consistencyQuorum.name, () => {
  it('is more than (n + C) / 2 of the invited sites and at least t', () => {
    const mesh = { ...config, siteIds: Array.from({ length: 10 }, (_, i) => i + 1), threshold: 5 };
    expect(consistencyQuorum(mesh)).toBe(6);
    expect(consistencyQuorum(mesh, 2)).toBe(7);
    expect(consistencyQuorum({ ...mesh, threshold: 8 })).toBe(8);
    expect(
      consistencyQuorum({ ...mesh, siteIds: [...mesh.siteIds, 11, 12], neighbours: 4, threshold: 3 }),
    ).toBe(7);
    expect(() => consistencyQuorum(mesh, 10)).toThrow("'colluders'");
    expect(() => consistencyQuorum(mesh, -1)).toThrow("'colluders'");
  });
});

describe('the consistency round at the coordinator', () => {
  it('refuses a masked input whose signature over the sharer set does not verify', () => {
    const { coordinator, masked } = toInputs();
    const [first, second] = masked as [MaskedInput, MaskedInput];
    expect(() =>
      coordinator.receiveMaskedInput({ ...first, sharersSignature: second.sharersSignature }),
    ).toThrow(ForgedKeyError);
    coordinator.receiveMaskedInput(first);
  });

  it('verifies each survivor signature, abandons below the quorum, and asks only signers to unmask', () => {
    const { sites, coordinator, masked } = toInputs();
    for (const m of masked) coordinator.receiveMaskedInput(m);
    const sets = coordinator.closeInputs()!;
    expect(coordinator.stage).toBe('consistency');
    const sig = (id: number) => sites.get(id)!.signSurvivors(sets.find((s) => s.to === id)!);
    expect(() => coordinator.receiveSurvivorSignature({ ...sig(1), from: 2 })).toThrow(ForgedKeyError);
    for (const id of [1, 2, 3]) coordinator.receiveSurvivorSignature(sig(id));
    expect(() => coordinator.receiveSurvivorSignature(sig(3))).toThrow(StageError);
    const resumed = SecAggCoordinator.resume(
      { config, identityKeys },
      decodeState(encodeState(coordinator.state)),
    );
    expect(resumed.closeConsistency()).toBeUndefined(); // 3 of 6 < quorum 4
    expect(resumed.state).toMatchObject({ stage: 'abandoned', maskedSum: null, result: null });
    expect(resumed.state.reason).toBe('only 3 sites signed the survivor set; threshold is 4');

    coordinator.receiveSurvivorSignature(sig(4));
    const requests = coordinator.closeConsistency()!;
    expect(requests.map((r) => r.to)).toEqual([1, 2, 3, 4]);
    expect(requests[0]!.signatures).toHaveLength(4);
    const fromNonSigner = { roundId: config.roundId, from: 5, keyShares: [], seedShares: [] };
    expect(() => coordinator.receiveUnmask(fromNonSigner)).toThrow(/did not sign the survivor set/);
    for (const r of requests) coordinator.receiveUnmask(sites.get(r.to)!.unmask(r));
    expect(coordinator.finish()).toEqual({
      status: 'done',
      sum: Uint32Array.of(21, 6),
      survivors: config.siteIds,
    });
  });

  it('a site resumed after signing still signs no other set', () => {
    const { sites, coordinator, masked } = toInputs();
    for (const m of masked.filter((x) => x.from !== 6)) coordinator.receiveMaskedInput(m);
    const set = coordinator.closeInputs()!.find((s) => s.to === 1)!;
    sites.get(1)!.signSurvivors(set);
    const resumed = SecAggSite.resume(options(1), decodeState(encodeState(sites.get(1)!.state)));
    expect(resumed.stage).toBe('consistent');
    expect(resumed.signSurvivors(set).signature).toEqual(sites.get(1)!.signSurvivors(set).signature);
    const other = { ...set, survivors: [1, 2, 3, 4, 6], dropped: [5] };
    expect(() => resumed.signSurvivors(other)).toThrow(/already signed another survivor set/);
  });
});
