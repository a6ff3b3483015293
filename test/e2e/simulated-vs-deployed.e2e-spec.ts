// Issue 12's equivalence test: the simulator (libs/simulate: the coordinator and the nodes in one
// process over the in-memory transport) and a deployment (a coordinator process and one node
// process per site, over TLS gRPC on loopback) each compute their own releases from their own
// teachers and records, and must agree bit for bit: the same queries (least-confident after the
// first round), the same unmasked sums, the same targets and the same students, with FedMD's
// digest and revisit between rounds. Only the transport differs, and each node's noise source,
// seeded identically on both sides (the deployment's nodes via FEDISTILL_TEST_NOISE_SEED).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { type Dataset, encodeNpy, encodeNpyFloat32 } from '@fedistill/data';
import {
  federationDefinition,
  loadSimulationData,
  nodeSettings,
  readDeployedRounds,
  runSimulation,
  type SimulationConfig,
  SIMULATED_FEDERATION,
  siteName,
} from '@fedistill/simulate';
import { accumulateTargets, targetRuleOf } from '../../apps/coordinator/src';
import {
  admin,
  BIN,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import { approveRoster, uploadReference } from './support/site-nodes';

const config: SimulationConfig = {
  dataset: { name: 'breast-cancer' },
  sites: 3,
  partition: { kind: 'iid' },
  partitionSeed: 5,
  teachers: { perSite: 6, hidden: [8], epochs: 8, batchSize: 16 },
  student: { hidden: [8], epochs: 15, batchSize: 16 },
  referenceSize: 114,
  testFraction: 0.2,
  rounds: 2,
  queries: { perRound: 12, strategy: 'least-confident' },
  revisit: { digestEpochs: 1, localEpochs: 1 },
  summary: 'soft-labels',
  aggregation: { kind: 'mean' },
  privacy: { kind: 'skellam', noiseMultiplier: 1, clip: 1, delta: 1e-5, assumedColluders: 1 },
  secureAggregation: { threshold: 2, neighbours: 'all', bits: 32, toleratedDropouts: 0 },
  seed: 7,
};

const npyInputs = (d: Dataset) => Buffer.from(encodeNpyFloat32([d.count, ...d.featureShape], d.features));
const npyLabels = (d: Dataset) => Buffer.from(encodeNpy([d.count], d.labels));

interface StudentView {
  version: number;
  sha256: string;
  rounds: number[];
}

/** The same federation as the simulator's, deployed as separate processes over TLS. */
async function deploy(fx: CoordinatorFixture, nodes: ChildProcess[]): Promise<StudentView[]> {
  const data = await loadSimulationData(config);
  const dirs: Record<string, string> = {};
  const members = data.sites.map((_, i) => siteName(i));
  for (const [i, records] of data.sites.entries()) {
    const dir = await enrolNodeWithCli(fx, siteName(i));
    dirs[siteName(i)] = dir;
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', 'train.npy'), npyInputs(records));
    fs.writeFileSync(path.join(dir, 'data', 'labels.npy'), npyLabels(records));
    const file = path.join(dir, 'node.yaml');
    const yaml = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, stringify({ ...yaml, ...nodeSettings(config, i) }));
  }
  const sha256 = await uploadReference(fx, data.reference);
  const definition = federationDefinition(config, {
    classes: data.reference.numClasses,
    inputShape: data.reference.featureShape,
    referenceSha256: sha256,
  });
  const created = await admin(fx, 'POST', '/api/v1/federations', definition);
  expect(created.status).toBe(201);
  for (const site of members)
    expect(
      (await admin(fx, 'POST', `/api/v1/federations/${SIMULATED_FEDERATION}/sites`, { site })).status,
    ).toBe(200);
  const form = new FormData();
  form.append('inputs', new Blob([npyInputs(data.test)]), 'inputs.npy');
  form.append('labels', new Blob([npyLabels(data.test)]), 'labels.npy');
  const evaluation = await fetch(`${fx.adminUrl}/api/v1/federations/${SIMULATED_FEDERATION}/evaluation-set`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${fx.operatorToken}` },
    body: form,
  });
  expect(evaluation.ok).toBe(true);
  await approveRoster(SIMULATED_FEDERATION, members, dirs);
  for (const [i, site] of members.entries()) {
    const log = fs.openSync(path.join(fx.dir, `${site}.log`), 'a');
    nodes.push(
      spawn(process.execPath, [BIN, 'node', 'start', '--dir', dirs[site]!], {
        stdio: ['ignore', log, log],
        env: { ...process.env, NODE_ENV: 'test', FEDISTILL_TEST_NOISE_SEED: String(config.seed * 100 + i) },
      }),
    );
    fs.closeSync(log);
  }
  await waitFor('every node online', 60_000, async () => {
    const { body } = await admin<{ sites: { online: boolean }[] }>(fx, 'GET', '/api/v1/sites');
    return body.sites.length === members.length && body.sites.every((s) => s.online) ? true : undefined;
  });
  const students: StudentView[] = [];
  for (let round = 1; round <= config.rounds; round += 1) {
    expect((await admin(fx, 'POST', `/api/v1/federations/${SIMULATED_FEDERATION}/rounds`, {})).status).toBe(
      201,
    );
    const status = await waitFor(`round ${round}`, 240_000, async () => {
      const { body } = await admin<{ rounds: { round: number; status: string; reason: string | null }[] }>(
        fx,
        'GET',
        `/api/v1/federations/${SIMULATED_FEDERATION}/rounds`,
      );
      const r = body.rounds.find((x) => x.round === round);
      return r && r.status !== 'open' ? r : undefined;
    });
    expect(status).toMatchObject({ status: 'completed' });
    students.push(
      await waitFor(`the student of round ${round}`, 240_000, async () => {
        const { body } = await admin<{ students: StudentView[] }>(
          fx,
          'GET',
          `/api/v1/federations/${SIMULATED_FEDERATION}/students`,
        );
        return body.students.find((s) => s.rounds.includes(round));
      }),
    );
  }
  return students;
}

describe('the simulator and a deployment of the same federation', () => {
  let fx: CoordinatorFixture | undefined;
  const nodes: ChildProcess[] = [];
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-equivalence-'));

  afterAll(async () => {
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.all(nodes.map((n) => exited(n)));
    await fx?.stop();
    if (!process.env.FEDISTILL_KEEP_E2E) fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('produce identical queries, aggregates, targets and students over two rounds with least-confident queries and revisit', async () => {
    const simulated = await runSimulation(config, { workspace });
    const sim = await readDeployedRounds(path.join(workspace, 'coordinator'), SIMULATED_FEDERATION);

    fx = await startCoordinatorProcess({ heartbeatInterval: '1s', offlineAfter: '1m' });
    const students = await deploy(fx, nodes);
    const dep = await readDeployedRounds(path.join(fx.dir, 'data'), SIMULATED_FEDERATION);

    expect(sim.completed.map((r) => r.round)).toEqual([1, 2]);
    expect(dep.completed.map((r) => r.round)).toEqual([1, 2]);
    const rule = targetRuleOf({ aggregation: 'mean' } as Parameters<typeof targetRuleOf>[0]);
    for (const [i, s] of sim.completed.entries()) {
      const d = dep.completed[i]!;
      expect(d.plan.queries).toEqual(s.plan.queries);
      expect(d.sites).toBe(3);
      // Each path computed its own releases: the sums are noised (not all zero, not one value).
      expect(new Set(s.sum).size).toBeGreaterThan(s.sum.length / 4);
      expect(Buffer.from(d.sum.buffer).equals(Buffer.from(s.sum.buffer))).toBe(true);
      const simTargets = accumulateTargets(sim.completed.slice(0, i + 1), rule, 2);
      const depTargets = accumulateTargets(dep.completed.slice(0, i + 1), rule, 2);
      expect(depTargets.rows).toEqual(simTargets.rows);
      expect(Buffer.from(depTargets.probs.buffer).equals(Buffer.from(simTargets.probs.buffer))).toBe(true);
    }
    expect(simulated.rounds.map((r) => r.abandoned)).toEqual([null, null]);
    expect(students.map((s) => s.sha256).at(-1)).toBe(simulated.student?.sha256);
    expect(dep.accountant.epsilon(1e-5).epsilon).toBeCloseTo(simulated.epsilon ?? NaN, 12);
  }, 600_000);
});
