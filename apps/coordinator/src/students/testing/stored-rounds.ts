import { encodeNpyFloat32 } from '@fedistill/data';
import {
  type DistillRoundPlan,
  type FederationSpec,
  planRound,
  type QuerySelection,
} from '@fedistill/protocol';
import { encodeSigned, encodeState, initialCoordinatorState } from '@fedistill/secagg';
import type { CoordinatorStore } from '@fedistill/store';
import type { FederationService } from '../../federation/federation.service';
import type { RoundSnapshot } from '../../rounds/live-round';

/** Test support (specs only): real stores, real plans, sums the test chooses. */

/** `n` points of two separable clusters in 2-D, alternating class 0 (near -2) and 1 (near +2). */
export function twoClusters(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    const c = i % 2;
    x[2 * i] = (c ? 2 : -2) + next();
    x[2 * i + 1] = (c ? 2 : -2) + next();
    y[i] = c;
  }
  return { x, y };
}

/** Enrols `sites` straight into the store (no tokens travel). */
export async function enrolSites(store: CoordinatorStore, sites: readonly string[]): Promise<void> {
  for (const [i, site] of sites.entries()) {
    await store.enrolments.issue({ tokenHash: site, siteName: site, createdAt: 1, expiresAt: 9e15 });
    await store.enrolments.redeem({
      tokenHash: site,
      siteName: site,
      signingPublicKey: new Uint8Array(32).fill(i + 1),
      boxPublicKey: new Uint8Array(32),
      now: 2,
    });
  }
}

/** Registers `x` ([rows, 2]) and creates a 2-class federation over it with `sites` as members. */
export async function twoClassFederation(
  federations: FederationService,
  x: Float32Array,
  definition: Record<string, unknown>,
  sites: readonly string[],
): Promise<FederationSpec> {
  const { sha256 } = await federations.registerReferenceSet(encodeNpyFloat32([x.length / 2, 2], x));
  const created = await federations.create({
    labels: ['neg', 'pos'],
    input: { shape: [2] },
    referenceSet: { sha256 },
    student: { architecture: 'mlp', hidden: [8] },
    ...definition,
  });
  for (const s of sites) await federations.addSite(created.id, s);
  return federations.get(created.id);
}

/**
 * Stores round `round` as the engine records a completed one: its plan asking `queries`, and an
 * unmasked sum in which each of the `sites` put 100 granularity units on the class `labelOf(row)`.
 */
export async function storeCompletedRound(
  store: CoordinatorStore,
  spec: FederationSpec,
  round: number,
  queries: readonly number[],
  labelOf: (row: number) => number,
  sites: readonly string[],
  selection?: QuerySelection,
): Promise<DistillRoundPlan> {
  const roster = sites.map((name, i) => ({ name, signingPublicKey: String(i).repeat(64) }));
  const plan = planRound(spec, round, roster, queries, 1000, selection);
  const sum = new Int32Array(queries.length * 2);
  queries.forEach((row, q) => (sum[q * 2 + labelOf(row)] = sites.length * 100));
  const snapshot: RoundSnapshot = {
    plan,
    coordinator: {
      ...initialCoordinatorState(),
      stage: 'done',
      inputs: sites.map((_s, i) => i),
      result: encodeSigned(sum, plan.config.bits ?? 32),
    },
    declines: [],
    receipts: {},
    status: 'completed',
    reason: null,
    createdAt: 1000,
  };
  await store.rounds.create({
    federationId: spec.id,
    round,
    status: 'completed',
    stage: 'done',
    engine: encodeState(snapshot),
    createdAt: 1000,
    updatedAt: 2000,
  });
  return plan;
}
