import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { splitBreastCancer } from '../../apps/cli/src/demo/demo-data';
import type { RoundView } from '../../apps/coordinator/src/rounds/round-view';
import { exportTorchTeachers, NEEDS_TORCH, hasTorch } from '../../libs/distill/test-support/torch-teachers';
import {
  admin,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import { auditRows } from './support/node-logs';
import { QUERIES, Z } from './support/exact-charge';
import { createBreastCancerFederation, prepareSiteNode, uploadReference } from './support/site-nodes';

/** CI installs python3-torch: there a missing torch fails these tests instead of skipping them. */
const torchRuns = hasTorch || Boolean(process.env.CI);
const withTorch = torchRuns ? it : it.skip;

const REPO = path.resolve(__dirname, '..', '..');
/**
 * Each site lists PyTorch-exported teachers (input 'x', output 'scores') in node.yaml, in the
 * forms a site would write: plain paths, a probabilities output, a fixed batch of 1, and a model
 * with two outputs whose output is named.
 */
const TEACHERS: Record<string, unknown[]> = {
  'st-marys': ['teachers/a.onnx', 'teachers/b.onnx'],
  riverside: [{ path: 'teachers/probs.onnx', outputKind: 'probabilities' }, 'teachers/fixed1.onnx'],
  northgate: [{ path: 'teachers/two-outputs.onnx', input: 'x', output: 'scores' }, 'teachers/a.onnx'],
};
const SITES = Object.keys(TEACHERS);

/** A federation whose three node processes answer with the site's own torch-exported teachers. */
describe('site-provided ONNX teachers exported by PyTorch', () => {
  let fx: CoordinatorFixture;
  const nodes: ChildProcess[] = [];
  const dirs: Record<string, string> = {};

  beforeAll(async () => {
    if (!torchRuns) return;
    fx = await startCoordinatorProcess({ heartbeatInterval: '1s', offlineAfter: '4s' });
    const models = path.join(fx.dir, 'torch-teachers');
    fs.mkdirSync(models);
    exportTorchTeachers(models, 30, 2);
    const split = await splitBreastCancer(REPO, SITES.length);
    for (const [i, site] of SITES.entries()) {
      const dir = await enrolNodeWithCli(fx, site);
      dirs[site] = dir;
      prepareSiteNode(dir, split.hospitals[i]!, {
        teachers: { count: 2, hidden: [4], epochs: 1, batchSize: 8 },
        epsilonLimit: 100,
      });
      fs.cpSync(models, path.join(dir, 'teachers'), { recursive: true });
      const file = path.join(dir, 'node.yaml');
      const config = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      config.teachers = { onnx: TEACHERS[site] };
      fs.writeFileSync(file, stringify(config));
      nodes.push(spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, `${site}.log`)));
    }
    const referenceSha256 = await uploadReference(fx, split.reference);
    await createBreastCancerFederation(fx, {
      id: 'torch',
      referenceSha256,
      members: SITES,
      dirs,
      noiseMultiplier: Z,
      rounds: { minSites: 3, queriesPerRound: QUERIES, maxRounds: 1 },
    });
    await waitFor('every node online', 60_000, async () => {
      const { body } = await admin<{ sites: { online: boolean }[] }>(fx, 'GET', '/api/v1/sites');
      return body.sites.length === SITES.length && body.sites.every((s) => s.online) ? true : undefined;
    });
  }, 240_000);

  afterAll(async () => {
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.all(nodes.map((n) => exited(n)));
    await fx?.stop();
  });

  withTorch(`every site answers the round with them instead of declining ${NEEDS_TORCH}`, async () => {
    const started = await admin<RoundView>(fx, 'POST', '/api/v1/federations/torch/rounds', {});
    expect(started.status).toBe(201);
    const r = await waitFor('round 1 of torch', 90_000, async () => {
      const { body } = await admin<{ rounds: RoundView[] }>(fx, 'GET', '/api/v1/federations/torch/rounds');
      const found = body.rounds.find((x) => x.round === 1);
      return found && found.status !== 'open' ? found : undefined;
    });
    expect({ status: r.status, declines: r.declines }).toEqual({ status: 'completed', declines: [] });
    expect([...r.inputsFrom].sort()).toEqual([...SITES].sort());
    for (const site of SITES) {
      const sent = auditRows(dirs[site]!).filter(
        (e) => e.event === 'egress' && e.kind === 'Rounds/SubmitMaskedSummary',
      );
      expect({ site, summaries: sent.length }).toEqual({ site, summaries: 1 });
    }
  });
});
