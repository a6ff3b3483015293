import { SecAggCoordinator } from './coordinator';
import type { SecAggConfig } from './config';
import { signAdvert } from './envelope';
import { ForgedKeyError, ShareRejectedError, StageError, UnmaskRefusedError } from './errors';
import type { KeyRoster, SealedShare, ShareDelivery, UnmaskRequest } from './messages';
import { seededRandom } from './random';
import { decodeState, encodeState } from './serialize';
import { makeIdentities } from './simulate';
import { SecAggSite } from './site';

const config: SecAggConfig = {
  roundId: 'round-9',
  siteIds: [1, 2, 3, 4, 5],
  threshold: 3,
  neighbours: 'all',
  bits: 32,
  maxInput: 100,
  length: 3,
};
const identities = makeIdentities(config.siteIds, seededRandom(42));
const identityKeys = new Map([...identities].map(([id, kp]) => [id, kp.publicKey]));

function setup(c: SecAggConfig = config): { sites: Map<number, SecAggSite>; coordinator: SecAggCoordinator } {
  const random = seededRandom(7);
  const sites = new Map(
    c.siteIds.map((siteId) => [
      siteId,
      SecAggSite.create({
        config: c,
        siteId,
        identitySecretKey: identities.get(siteId)!.secretKey,
        identityKeys,
        random,
      }),
    ]),
  );
  return { sites, coordinator: SecAggCoordinator.create({ config: c, identityKeys }) };
}

function toSharing(): { sites: Map<number, SecAggSite>; coordinator: SecAggCoordinator; roster: KeyRoster } {
  const { sites, coordinator } = setup();
  for (const site of sites.values()) coordinator.receiveKeys(site.advertiseKeys());
  return { sites, coordinator, roster: coordinator.closeKeys()! };
}

function toDelivery(): {
  sites: Map<number, SecAggSite>;
  coordinator: SecAggCoordinator;
  deliveries: ShareDelivery[];
} {
  const { sites, coordinator, roster } = toSharing();
  for (const [id, site] of sites) coordinator.receiveShares(id, site.shareKeys(roster));
  return { sites, coordinator, deliveries: coordinator.closeShares()! };
}

const input = new Uint32Array([1, 2, 3]);

// Closes the input stage, has every survivor sign the survivor set, and closes the consistency
// round: the unmask requests an honest coordinator sends.
function signedRequests(sites: Map<number, SecAggSite>, coordinator: SecAggCoordinator): UnmaskRequest[] {
  for (const set of coordinator.closeInputs()!)
    coordinator.receiveSurvivorSignature(sites.get(set.to)!.signSurvivors(set));
  return coordinator.closeConsistency()!;
}

describe('attacks on the protocol', () => {
  it('refuses round keys signed by another identity, at the coordinator and at the site', () => {
    const { sites, coordinator } = setup();
    const real = sites.get(2)!.advertiseKeys();
    const forged = signAdvert(
      'round-9',
      2,
      real.sealPublicKey,
      new Uint8Array(32).fill(5),
      identities.get(3)!.secretKey,
    );
    expect(() => coordinator.receiveKeys(forged)).toThrow(ForgedKeyError);
    for (const [id, site] of sites) if (id !== 2) coordinator.receiveKeys(site.advertiseKeys());
    coordinator.receiveKeys(real);
    const roster = coordinator.closeKeys()!;
    const tampered = { ...roster, adverts: roster.adverts.map((a) => (a.siteId === 2 ? forged : a)) };
    expect(() => sites.get(1)!.shareKeys(tampered)).toThrow(ForgedKeyError);
    expect(() => sites.get(3)!.shareKeys({ ...roster, roundId: 'round-8' })).toThrow(ForgedKeyError);
  });

  it('refuses round keys replayed from another round', () => {
    const { sites, coordinator } = setup();
    const old = setup({ ...config, roundId: 'round-8' })
      .sites.get(1)!
      .advertiseKeys();
    sites.get(1)!.advertiseKeys();
    expect(() => coordinator.receiveKeys(old)).toThrow(ForgedKeyError);
  });

  it('detects a tampered share', () => {
    const { sites, deliveries } = toDelivery();
    const d = deliveries.find((x) => x.to === 1)!;
    const bad = d.shares.map((s, i) => (i === 0 ? flipByte(s) : s));
    expect(() => sites.get(1)!.maskInput({ ...d, shares: bad }, input)).toThrow(ShareRejectedError);
  });

  it('detects a share re-routed to another recipient, with or without rewriting its envelope', () => {
    const { sites, deliveries } = toDelivery();
    const forOne = deliveries.find((x) => x.to === 1)!.shares.find((s) => s.from === 2)!;
    const d3 = deliveries.find((x) => x.to === 3)!;
    const swapped = d3.shares.map((s) => (s.from === 2 ? forOne : s));
    expect(() => sites.get(3)!.maskInput({ ...d3, shares: swapped }, input)).toThrow(/delivered to site 3/);
    const rewritten = d3.shares.map((s) => (s.from === 2 ? { ...forOne, to: 3 } : s));
    expect(() => sites.get(3)!.maskInput({ ...d3, shares: rewritten }, input)).toThrow(
      /failed authentication/,
    );
  });

  it('detects a share for the wrong round', () => {
    const { sites, deliveries } = toDelivery();
    const d = deliveries.find((x) => x.to === 4)!;
    const relabelled = d.shares.map((s) => ({ ...s, roundId: 'round-10' }));
    expect(() => sites.get(4)!.maskInput({ ...d, shares: relabelled }, input)).toThrow(ShareRejectedError);
    expect(() => sites.get(4)!.maskInput({ ...d, roundId: 'round-10' }, input)).toThrow(ShareRejectedError);
  });

  it('detects a withheld share', () => {
    const { sites, deliveries } = toDelivery();
    const d = deliveries.find((x) => x.to === 5)!;
    expect(() => sites.get(5)!.maskInput({ ...d, shares: d.shares.slice(1) }, input)).toThrow(
      /no share from/,
    );
  });

  it('refuses to reveal both the key share and the seed share of one peer', () => {
    const { sites, coordinator, deliveries } = toDelivery();
    for (const d of deliveries.filter((x) => x.to !== 5))
      coordinator.receiveMaskedInput(sites.get(d.to)!.maskInput(d, input));
    const site1 = sites.get(1)!;
    const honest = signedRequests(sites, coordinator).find((r) => r.to === 1)!;
    expect(honest).toMatchObject({ survivors: [1, 2, 3, 4], dropped: [5] });
    const first = site1.unmask(honest);
    expect(first.keyShares.map((s) => s.of)).toEqual([5]);
    expect(first.seedShares.map((s) => s.of)).toEqual([2, 3, 4]);
    // The classic attack: now claim site 5 survived to obtain its seed share as well.
    expect(() => site1.unmask({ ...honest, survivors: [1, 2, 3, 5], dropped: [4] })).toThrow(
      UnmaskRefusedError,
    );
    expect(() => site1.unmask({ ...honest, survivors: [1, 2, 3, 5], dropped: [5] })).toThrow(
      /both survivor and dropped/,
    );
    expect(site1.state.revealed).toEqual({ 2: 'seed', 3: 'seed', 4: 'seed', 5: 'key' });
    expect(() =>
      sites.get(5)!.signSurvivors({ roundId: 'round-9', to: 5, survivors: [1, 5], dropped: [2, 3, 4] }),
    ).toThrow(StageError);
  });

  it('refuses stage violations: duplicates, strangers and early messages', () => {
    const { sites, coordinator } = setup();
    const a = sites.get(1)!.advertiseKeys();
    coordinator.receiveKeys(a);
    expect(() => coordinator.receiveKeys(a)).toThrow(StageError);
    expect(() =>
      coordinator.receiveMaskedInput({
        roundId: 'round-9',
        from: 1,
        vector: input,
        sharersSignature: new Uint8Array(64),
      }),
    ).toThrow(StageError);
    expect(() => sites.get(1)!.advertiseKeys()).toThrow(StageError);
  });

  it('refuses mis-routed shares and out-of-range vectors at the coordinator', () => {
    const { sites, coordinator, roster } = toSharing();
    const shares = sites.get(1)!.shareKeys(roster);
    expect(() => coordinator.receiveShares(1, shares.slice(1))).toThrow(/sent 3 shares, expected 4/);
    expect(() => coordinator.receiveShares(2, shares)).toThrow(/claiming to be from site 1/);
    expect(() => coordinator.receiveShares(1, [...shares.slice(1), { ...shares[0]!, to: 1 }])).toThrow(
      /unexpected share for site 1/,
    );
    coordinator.receiveShares(1, shares);
    expect(() => coordinator.receiveShares(1, shares)).toThrow(StageError);
  });

  it('refuses inputs outside the configured range at the site', () => {
    const { sites, deliveries } = toDelivery();
    const d = deliveries.find((x) => x.to === 1)!;
    expect(() => sites.get(1)!.maskInput(d, Uint32Array.of(1, 101, 0))).toThrow(/'input'\[1\]/);
    expect(() => sites.get(1)!.maskInput(d, Uint32Array.of(1, 2))).toThrow(/length 3/);
  });

  it('persists and resumes a site mid-round', () => {
    const { sites, coordinator, deliveries } = toDelivery();
    const saved = encodeState(sites.get(2)!.state);
    const resumed = SecAggSite.resume(
      { config, siteId: 2, identitySecretKey: identities.get(2)!.secretKey, identityKeys },
      decodeState(saved),
    );
    sites.set(2, resumed);
    for (const d of deliveries)
      coordinator.receiveMaskedInput(sites.get(d.to)!.maskInput(d, Uint32Array.of(d.to, 1, 2)));
    for (const r of signedRequests(sites, coordinator)) coordinator.receiveUnmask(sites.get(r.to)!.unmask(r));
    expect(coordinator.finish()).toEqual({
      status: 'done',
      sum: Uint32Array.of(15, 5, 10),
      survivors: [1, 2, 3, 4, 5],
    });
  });

  it('persists and resumes the coordinator mid-round with the same result', () => {
    const { sites, coordinator, deliveries } = toDelivery();
    const resumedAfterShares = SecAggCoordinator.resume(
      { config, identityKeys },
      decodeState(encodeState(coordinator.state)),
    );
    for (const d of deliveries.filter((x) => x.to !== 3)) {
      resumedAfterShares.receiveMaskedInput(sites.get(d.to)!.maskInput(d, Uint32Array.of(d.to, 0, 100)));
    }
    const again = SecAggCoordinator.resume(
      { config, identityKeys },
      decodeState(encodeState(resumedAfterShares.state)),
    );
    for (const r of signedRequests(sites, again)) again.receiveUnmask(sites.get(r.to)!.unmask(r));
    expect(again.finish()).toEqual({
      status: 'done',
      sum: Uint32Array.of(1 + 2 + 4 + 5, 0, 400),
      survivors: [1, 2, 4, 5],
    });
  });
});

function flipByte(s: SealedShare): SealedShare {
  const ciphertext = Uint8Array.from(s.ciphertext);
  ciphertext[20] = (ciphertext[20] as number) ^ 0x40;
  return { ...s, ciphertext };
}

describe('coordinator checks on revealed shares', () => {
  it('abandons when a rebuilt key does not match the signed key, revealing no sum', () => {
    const { sites, coordinator, deliveries } = toDelivery();
    for (const d of deliveries.filter((x) => x.to !== 5))
      coordinator.receiveMaskedInput(sites.get(d.to)!.maskInput(d, input));
    for (const r of signedRequests(sites, coordinator)) {
      const resp = sites.get(r.to)!.unmask(r);
      const keyShares = resp.keyShares.map((s) => ({ ...s, share: s.share.map((b) => b ^ 1) }));
      coordinator.receiveUnmask({ ...resp, keyShares });
    }
    expect(coordinator.finish()).toEqual({
      status: 'abandoned',
      reason: 'rebuilt mask key of site 5 does not match its signed key',
    });
    expect(coordinator.state.result).toBeNull();
  });
});
