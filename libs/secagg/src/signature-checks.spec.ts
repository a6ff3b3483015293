import type { SecAggConfig } from './config';
import { neighbourGraph } from './config';
import { rosterGraphSeed } from './graph-seed';
import { SecAggCoordinator } from './coordinator';
import { ed25519Sign } from './curve';
import { signAdvert } from './envelope';
import type { KeyRoster } from './messages';
import { seededRandom } from './random';
import { sharedSignatureChecks } from './signature-checks';
import { makeIdentities, simulateRound } from './simulate';
import { SecAggSite } from './site';

const config: SecAggConfig = {
  roundId: 'memo-1',
  siteIds: Array.from({ length: 12 }, (_, i) => i + 1),
  threshold: 3,
  neighbours: 4,
  bits: 32,
  maxInput: 100,
  length: 4,
};
const identities = makeIdentities(config.siteIds, seededRandom(5));
const identityKeys = new Map([...identities].map(([id, kp]) => [id, kp.publicKey]));
const keyOf = (id: number) => identities.get(id)!;
const toggle = (b: Uint8Array, i: number): void => {
  b[i] = (b[i] as number) ^ 1;
};
const flip = (b: Uint8Array): Uint8Array => {
  const c = b.slice();
  c[0] = (c[0] as number) ^ 1;
  return c;
};

describe('sharedSignatureChecks', () => {
  const advert = () =>
    signAdvert('memo-1', 3, new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), keyOf(3).secretKey);

  it('answers a repeated advert check and refuses a forgery after the genuine advert was cached', () => {
    const checks = sharedSignatureChecks();
    const genuine = advert();
    expect(checks.advert(genuine, 'memo-1', keyOf(3).publicKey)).toBe(true);
    expect(checks.advert(genuine, 'memo-1', keyOf(3).publicKey)).toBe(true);
    // Another object, the genuine signature over other keys; the same object for another round,
    // or checked against another site's identity key.
    expect(
      checks.advert({ ...genuine, maskPublicKey: flip(genuine.maskPublicKey) }, 'memo-1', keyOf(3).publicKey),
    ).toBe(false);
    expect(checks.advert(genuine, 'memo-2', keyOf(3).publicKey)).toBe(false);
    expect(checks.advert(genuine, 'memo-1', keyOf(4).publicKey)).toBe(false);
  });

  it('notices an advert changed in place after it verified', () => {
    const checks = sharedSignatureChecks();
    const a = advert();
    expect(checks.advert(a, 'memo-1', keyOf(3).publicKey)).toBe(true);
    toggle(a.sealPublicKey, 5);
    expect(checks.advert(a, 'memo-1', keyOf(3).publicKey)).toBe(false);
    toggle(a.sealPublicKey, 5);
    toggle(a.signature, 0);
    expect(checks.advert(a, 'memo-1', keyOf(3).publicKey)).toBe(false);
  });

  it('binds a cached signature to its message and key', () => {
    const checks = sharedSignatureChecks();
    const message = new Uint8Array([1, 2, 3]);
    const signature = ed25519Sign(message, keyOf(1).secretKey);
    expect(checks.over(message)(signature, keyOf(1).publicKey)).toBe(true);
    expect(checks.over(new Uint8Array([1, 2, 4]))(signature, keyOf(1).publicKey)).toBe(false);
    expect(checks.over(message)(signature, keyOf(2).publicKey)).toBe(false);
    expect(checks.over(message)(flip(signature), keyOf(1).publicKey)).toBe(false);
    expect(checks.over(message)(signature.subarray(0, 63), keyOf(1).publicKey)).toBe(false);
  });

  it('gives the same round as per-site checks (exact sum with dropouts)', () => {
    const inputs = new Map(config.siteIds.map((id) => [id, Uint32Array.from([id, 1, 0, 2])]));
    const drops = new Map([[4, 'input' as const]]);
    const { outcome } = simulateRound(config, inputs, {
      drops,
      identities,
      signatureChecks: sharedSignatureChecks(),
      random: seededRandom(9),
    });
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expect(Array.from(outcome.sum)).toEqual([78 - 4, 11, 0, 22]);
  });
});

/**
 * Attacks on sites that share one memo (what the load benchmark runs): the memo must not let a
 * site accept what it would refuse on its own.
 */
describe('attack: a coordinator forges what other sites already verified', () => {
  function round() {
    const checks = sharedSignatureChecks();
    const random = seededRandom(11);
    const sites = new Map(
      config.siteIds.map((siteId) => [
        siteId,
        SecAggSite.create({
          config,
          siteId,
          identitySecretKey: keyOf(siteId).secretKey,
          identityKeys,
          random,
          signatureChecks: checks,
        }),
      ]),
    );
    const coordinator = SecAggCoordinator.create({ config, identityKeys });
    for (const site of sites.values()) coordinator.receiveKeys(site.advertiseKeys());
    return { sites, coordinator, roster: coordinator.closeKeys()! };
  }

  it('a site given a forged advertisement of a non-neighbour refuses the roster', () => {
    const { sites, roster } = round();
    // Every other site verifies the genuine roster first, filling the memo.
    for (const [id, site] of sites) if (id !== 1) site.shareKeys(roster);
    // Site 1 gets the roster with the mask key of a site that is not its neighbour (in the graph
    // of the forged roster, or of the genuine one) swapped for the coordinator's, signature kept.
    const forgedRoster = (victim: number): KeyRoster => ({
      ...roster,
      adverts: roster.adverts.map((a) =>
        a.siteId === victim ? { ...a, maskPublicKey: flip(a.maskPublicKey) } : a,
      ),
    });
    const neighboursOf1 = (r: KeyRoster) =>
      neighbourGraph(config, rosterGraphSeed(config.roundId, r.adverts)).get(1) ?? [];
    const stranger = config.siteIds.find(
      (id) =>
        id !== 1 && !neighboursOf1(forgedRoster(id)).includes(id) && !neighboursOf1(roster).includes(id),
    );
    expect(stranger).toBeDefined();
    expect(() => sites.get(1)!.shareKeys(forgedRoster(stranger as number))).toThrow(
      `round keys of site ${stranger} do not verify`,
    );
    // Its neighbours' adverts in the genuine roster still pass: the refusal is the forgery's.
    expect(sites.get(1)!.stage).toBe('advertised');
    expect(() => sites.get(1)!.shareKeys(roster)).not.toThrow();
  });
});
