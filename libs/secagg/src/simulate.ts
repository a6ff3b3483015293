/**
 * An in-process driver that plays one whole round between SecAggSite objects and a
 * SecAggCoordinator, with sites dropping out at chosen stages. For tests, the simulator and the
 * benchmark; real rounds are driven by the round engine over the wire.
 */
import type { SecAggConfig } from './config';
import { SecAggCoordinator, type SecAggOutcome } from './coordinator';
import { ed25519KeyPairFromSeed } from './curve';
import { InsufficientSitesError, ShareRejectedError } from './errors';
import { cryptoRandom, randomBytes, type RandomSource } from './random';
import { SecAggSite } from './site';
import type { SignatureChecks } from './signature-checks';

/**
 * The stage before which a site vanishes: it sends nothing from that stage on ('sign' is the
 * consistency round, between its masked input and the unmasking).
 */
export type DropStage = 'keys' | 'shares' | 'input' | 'sign' | 'unmask';

export interface SimulatedRound {
  readonly outcome: SecAggOutcome;
  readonly coordinator: SecAggCoordinator;
  readonly sites: ReadonlyMap<number, SecAggSite>;
}

/** An Ed25519 identity key pair in tweetnacl layout. */
export interface IdentityKeyPair {
  readonly publicKey: Uint8Array;
  /** 64 bytes: seed || public key. */
  readonly secretKey: Uint8Array;
}

/** Ed25519 identity key pairs for `ids`, drawn from `random`. */
export function makeIdentities(
  ids: readonly number[],
  random: RandomSource = cryptoRandom,
): Map<number, IdentityKeyPair> {
  return new Map(ids.map((id) => [id, ed25519KeyPairFromSeed(randomBytes(random, 32))]));
}

/** Knobs of `simulateRound`. */
export interface SimulateOptions {
  /** Sites that go silent, and the stage before which they do. */
  readonly drops?: ReadonlyMap<number, DropStage>;
  /** Randomness for every party; defaults to the OS CSPRNG. */
  readonly random?: RandomSource;
  /** Identity keys to reuse across rounds; drawn fresh if absent. */
  readonly identities?: ReadonlyMap<number, IdentityKeyPair>;
  /**
   * How the sites check signatures: one `sharedSignatureChecks()` for all of them verifies each
   * distinct signature once in this process (signature-checks.ts); default: each site verifies
   * everything itself, as on its own machine.
   */
  readonly signatureChecks?: SignatureChecks;
  /** Called as each stage closes (for the load benchmark's per-stage times). */
  readonly onStage?: (stage: 'setup' | 'keys' | 'shares' | 'inputs' | 'consistency' | 'unmask') => void;
}

/**
 * Plays a round: `inputs` holds each site's vector; a site listed in `options.drops` goes silent
 * from that stage on. Returns the coordinator's outcome (sum of the sites that sent inputs, or abandoned).
 */
export function simulateRound(
  config: SecAggConfig,
  inputs: ReadonlyMap<number, Uint32Array>,
  options: SimulateOptions = {},
): SimulatedRound {
  const { drops = new Map<number, DropStage>(), random = cryptoRandom } = options;
  const stage = options.onStage ?? (() => undefined);
  const identities = options.identities ?? makeIdentities(config.siteIds, random);
  const identityKeys = new Map([...identities].map(([id, kp]) => [id, kp.publicKey]));
  const sites = new Map(
    config.siteIds.map((siteId) => [
      siteId,
      SecAggSite.create({
        config,
        siteId,
        identitySecretKey: identities.get(siteId)!.secretKey,
        identityKeys,
        random,
        signatureChecks: options.signatureChecks,
      }),
    ]),
  );
  const coordinator = SecAggCoordinator.create({ config, identityKeys });
  stage('setup');
  const alive = (id: number, stage: DropStage): boolean => {
    const order: DropStage[] = ['keys', 'shares', 'input', 'sign', 'unmask'];
    const d = drops.get(id);
    return d === undefined || order.indexOf(d) > order.indexOf(stage);
  };
  const done = (): SimulatedRound => ({ outcome: outcomeOf(coordinator), coordinator, sites });
  for (const [id, site] of sites) if (alive(id, 'keys')) coordinator.receiveKeys(site.advertiseKeys());
  const roster = coordinator.closeKeys();
  stage('keys');
  if (!roster) return done();
  for (const [id, site] of sites) {
    if (alive(id, 'shares') && site.stage === 'advertised') {
      const shares = withdraw(() => site.shareKeys(roster));
      if (shares) coordinator.receiveShares(id, shares);
    }
  }
  const deliveries = coordinator.closeShares();
  stage('shares');
  if (!deliveries) return done();
  for (const d of deliveries) {
    if (alive(d.to, 'input')) {
      const masked = withdraw(() => sites.get(d.to)!.maskInput(d, inputs.get(d.to)!));
      if (masked) coordinator.receiveMaskedInput(masked);
    }
  }
  const sets = coordinator.closeInputs();
  stage('inputs');
  if (!sets) return done();
  for (const set of sets)
    if (alive(set.to, 'sign')) coordinator.receiveSurvivorSignature(sites.get(set.to)!.signSurvivors(set));
  const requests = coordinator.closeConsistency();
  stage('consistency');
  if (!requests) return done();
  for (const r of requests) if (alive(r.to, 'unmask')) coordinator.receiveUnmask(sites.get(r.to)!.unmask(r));
  coordinator.finish();
  stage('unmask');
  return done();
}

// A site with fewer than t neighbours in the roster, or fewer than t sharing neighbours in its
// delivery, withdraws (its secrets could never be rebuilt, or its input would rest on its self
// mask alone).
function withdraw<T>(step: () => T): T | undefined {
  try {
    return step();
  } catch (e) {
    if (e instanceof InsufficientSitesError || e instanceof ShareRejectedError) return undefined;
    throw e;
  }
}

function outcomeOf(c: SecAggCoordinator): SecAggOutcome {
  const s = c.state;
  if (s.stage === 'done') return { status: 'done', sum: s.result!, survivors: s.inputs };
  return { status: 'abandoned', reason: s.reason ?? `stopped at stage '${s.stage}'` };
}
