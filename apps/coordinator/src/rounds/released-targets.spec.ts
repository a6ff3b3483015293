import type { AuditEntryInput } from '@fedistill/audit';
import { encodeNpyFloat32 } from '@fedistill/data';
import { type FederationSpec, planRound, type DistillRoundPlan } from '@fedistill/protocol';
import { encodeSigned, encodeState, initialCoordinatorState } from '@fedistill/secagg';
import { type CoordinatorStore, openSqliteCoordinatorStore, type SiteRecord } from '@fedistill/store';
import type { GetReleasedTargetsRequest, GetReleasedTargetsResponse } from '@fedistill/wire';
import { NotFoundError, RequestInvalidError } from '../domain/errors';
import { NodeEventHub } from '../domain/node-event-hub';
import { FederationService } from '../federation/federation.service';
import type { CallContext } from '../grpc/secure-service';
import type { RoundSnapshot } from './live-round';
import { releasedTargetsMethod, releasedTargetsPageRows } from './released-targets';

const SITES = ['site-a', 'site-b', 'site-c'];
const ROWS = 12;

describe(releasedTargetsMethod.name, () => {
  let store: CoordinatorStore;
  let federations: FederationService;
  let spec: FederationSpec;

  beforeEach(async () => {
    store = openSqliteCoordinatorStore(':memory:');
    const log = { append: (_e: AuditEntryInput) => Promise.resolve() };
    federations = new FederationService(store, log, new NodeEventHub());
    const reference = Float32Array.from({ length: ROWS * 2 }, (_, i) => i / 10);
    const { sha256 } = await federations.registerReferenceSet(encodeNpyFloat32([ROWS, 2], reference));
    spec = await federations.create({
      id: 'fed',
      labels: ['neg', 'pos'],
      input: { shape: [2] },
      referenceSet: { sha256 },
      student: { architecture: 'mlp' },
      privacy: { mechanism: 'none' },
      rounds: { minSites: 3, queriesPerRound: 3 },
    });
    for (const [i, site] of SITES.entries()) {
      await store.enrolments.issue({ tokenHash: site, siteName: site, createdAt: 1, expiresAt: 9e15 });
      await store.enrolments.redeem({
        tokenHash: site,
        siteName: site,
        signingPublicKey: new Uint8Array(32).fill(i + 1),
        boxPublicKey: new Uint8Array(32),
        now: 2,
      });
    }
    // site-c is enrolled with the coordinator but not a member of this federation.
    for (const s of SITES.slice(0, 2)) await federations.addSite('fed', s);
  });
  afterEach(() => store.close());

  /** Stores a completed round whose sum puts `mass` units on class `labelOf(row)` for each queried row. */
  async function completedRound(
    round: number,
    queries: number[],
    labelOf: (row: number) => number,
    status = 'completed',
  ) {
    const sites = SITES.map((name, i) => ({ name, signingPublicKey: String(i).repeat(64) }));
    const plan = planRound(spec, round, sites, queries, 1000);
    const sum = new Int32Array(queries.length * 2);
    queries.forEach((row, q) => (sum[q * 2 + labelOf(row)] = 300));
    const distill: DistillRoundPlan = { ...plan, config: { ...plan.config, length: sum.length } };
    const snapshot = {
      plan: distill,
      coordinator: {
        ...initialCoordinatorState(),
        stage: 'done',
        inputs: [0, 1, 2],
        result: encodeSigned(sum, 32),
      },
      declines: [],
      receipts: {},
      status,
      reason: null,
      createdAt: 1000,
    } as unknown as RoundSnapshot;
    await store.rounds.create({
      federationId: 'fed',
      round,
      status: status as 'completed',
      stage: 'done',
      engine: encodeState(snapshot),
      createdAt: 1000,
      updatedAt: 2000,
    });
  }

  const call = (site: string, req: Partial<GetReleasedTargetsRequest>): Promise<GetReleasedTargetsResponse> =>
    (
      releasedTargetsMethod(store, federations).handler as (
        r: unknown,
        c: CallContext,
      ) => Promise<GetReleasedTargetsResponse>
    )(
      { federationId: 'fed', beforeRound: 1, start: 0, ...req },
      { site: { name: site } as SiteRecord, method: '', peer: '', metadata: undefined as never },
    );
  const probs = (r: GetReleasedTargetsResponse) => [...new Float32Array(new Uint8Array(r.probs).buffer)];

  it('serves the targets of the completed rounds before the one asked, a row keeping its latest targets', async () => {
    await completedRound(1, [2, 5, 7], () => 0);
    await completedRound(2, [5, 9], () => 1);
    await completedRound(3, [1], () => 1);
    expect(await call('site-a', { beforeRound: 1 })).toMatchObject({ rows: [], totalRows: 0, rounds: [] });
    const before3 = await call('site-a', { beforeRound: 3 });
    expect(before3).toMatchObject({ rows: [2, 5, 7, 9], numClasses: 2, totalRows: 4, rounds: [1, 2] });
    expect(probs(before3)).toEqual([1, 0, 0, 1, 1, 0, 0, 1]);
    const page = await call('site-b', { beforeRound: 4, start: 3 });
    expect(page).toMatchObject({ rows: [7, 9], totalRows: 5, rounds: [1, 2, 3] });
    expect(probs(page)).toEqual([1, 0, 0, 1]);
  });

  it('skips rounds that did not complete', async () => {
    await completedRound(1, [2], () => 0);
    await completedRound(2, [3], () => 1, 'abandoned');
    expect(await call('site-a', { beforeRound: 3 })).toMatchObject({ rows: [2], rounds: [1] });
  });

  it('answers members only, and refuses a request it cannot serve', async () => {
    await completedRound(1, [2], () => 0);
    await expect(call('site-c', { beforeRound: 2 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(call('site-a', { federationId: 'other', beforeRound: 2 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(call('site-a', { beforeRound: 0 })).rejects.toThrow(RequestInvalidError);
    await expect(call('site-a', { beforeRound: 2, start: 2 })).rejects.toThrow(
      'field start 2 is past the 1 answered rows',
    );
  });

  it('pages so that one response stays within the wire limits', () => {
    expect(releasedTargetsPageRows(2)).toBe(100_000);
    expect(releasedTargetsPageRows(10)).toBe(26_214);
    expect(releasedTargetsPageRows(1000)).toBe(262);
    expect(releasedTargetsPageRows(1000) * 1000 * 4).toBeLessThanOrEqual(1_048_576);
  });
});
