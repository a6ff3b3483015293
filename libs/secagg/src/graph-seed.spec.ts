/**
 * Issue 11, finding 6: the coordinator no longer picks the neighbour graph. The adversary grinds
 * seeds, as it could when the seed was an announcement field, until a target's neighbours are
 * all sites it controls, and hands that seed to the sites inside the configuration.
 */
import { type SecAggConfig, neighbourGraph } from './config';
import { SecAggCoordinator } from './coordinator';
import { signAdvert } from './envelope';
import { ForgedKeyError } from './errors';
import { rosterGraphSeed } from './graph-seed';
import { seededRandom } from './random';
import { makeIdentities } from './simulate';
import { SecAggSite } from './site';

const TARGET = 1;
const SYBILS = [9, 10, 11, 12];
const config: SecAggConfig = {
  roundId: 'fed#3',
  siteIds: Array.from({ length: 12 }, (_, i) => i + 1),
  threshold: 3,
  neighbours: 4,
  bits: 32,
  maxInput: 1000,
  length: 2,
};
const identities = makeIdentities(config.siteIds, seededRandom(5));
const identityKeys = new Map([...identities].map(([id, kp]) => [id, kp.publicKey]));

function sitesFor(c: SecAggConfig): Map<number, SecAggSite> {
  const random = seededRandom(6);
  return new Map(
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
}

describe(rosterGraphSeed.name, () => {
  it('ignores a seed the coordinator ground so that the target neighbours only its sybils', () => {
    let ground: Uint8Array = new Uint8Array(32);
    for (let i = 0; ; i++) {
      ground = seededRandom(i).fill(new Uint8Array(32));
      if (
        neighbourGraph(config, ground)
          .get(TARGET)!
          .every((v) => SYBILS.includes(v))
      )
        break;
    }
    // The ground seed travels in the configuration, where the announcement used to carry it.
    const announced = Object.assign({}, config, { graphSeed: ground }) as SecAggConfig;
    const sites = sitesFor(announced);
    const coordinator = SecAggCoordinator.create({ config: announced, identityKeys });
    for (const s of sites.values()) coordinator.receiveKeys(s.advertiseKeys());
    const roster = coordinator.closeKeys()!;
    const sharedWith = sites
      .get(TARGET)!
      .shareKeys(roster)
      .map((s) => s.to)
      .sort((a, b) => a - b);
    const fromRoster = neighbourGraph(config, rosterGraphSeed(config.roundId, roster.adverts));
    expect(sharedWith).toEqual(fromRoster.get(TARGET));
    expect(sharedWith).not.toEqual(SYBILS);
    expect(sites.get(TARGET)!.state.graphSeed).toEqual(coordinator.state.graphSeed);
  });

  it('changes when any one advertisement changes, and does not depend on their order', () => {
    const sites = sitesFor(config);
    const adverts = [...sites.values()].map((s) => s.advertiseKeys());
    const seed = rosterGraphSeed(config.roundId, adverts);
    expect(rosterGraphSeed(config.roundId, [...adverts].reverse())).toEqual(seed);
    // A sybil re-keys after seeing the others (the residual grinding lever): another seed.
    const last = adverts.at(-1)!;
    const rekeyed = signAdvert(
      config.roundId,
      last.siteId,
      new Uint8Array(32).fill(1),
      new Uint8Array(32).fill(2),
      identities.get(last.siteId)!.secretKey,
    );
    expect(rosterGraphSeed(config.roundId, [...adverts.slice(0, -1), rekeyed])).not.toEqual(seed);
    expect(rosterGraphSeed('fed#4', adverts)).not.toEqual(seed);
    expect(() => rosterGraphSeed(config.roundId, [...adverts, last])).toThrow(RangeError);
  });

  it("refuses a roster with a forged advertisement of a site that is not the target's neighbour", () => {
    // Unverified adverts would be free grinding material: every advert goes into the seed.
    const sites = sitesFor(config);
    const adverts = [...sites.values()].map((s) => s.advertiseKeys());
    const seed = rosterGraphSeed(config.roundId, adverts);
    const far = config.siteIds.find(
      (v) => v !== TARGET && !neighbourGraph(config, seed).get(TARGET)!.includes(v),
    )!;
    const forged = adverts.map((a) =>
      a.siteId === far
        ? signAdvert(config.roundId, far, a.sealPublicKey, a.maskPublicKey, identities.get(TARGET)!.secretKey)
        : a,
    );
    expect(() => sites.get(TARGET)!.shareKeys({ roundId: config.roundId, adverts: forged })).toThrow(
      ForgedKeyError,
    );
    const stranger = { ...adverts[0]!, siteId: 99 };
    expect(() =>
      sites.get(2)!.shareKeys({ roundId: config.roundId, adverts: [...adverts, stranger] }),
    ).toThrow(/not invited/);
  });
});
