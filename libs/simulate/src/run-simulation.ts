import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Dataset } from '@fedistill/data';
import {
  classificationMetrics,
  type ClassificationMetrics,
  countedNoise,
  softmaxRows,
} from '@fedistill/distill';
import { Predictor } from '@fedistill/engine';
import { type BaselineResults, runBaselines } from './baselines';
import { type SimulationConfig, validateSimulationConfig } from './config';
import { loadSimulationData, type SimulationData } from './data';
import { type InProcessFederation, startInProcessFederation, waitFor } from './product/in-process-federation';
import { silentAt } from './product/federation-terms';
import { egressBytes, readDeployedRounds } from './product/round-results';

/** What one round did and what the student reached after it. */
export interface RoundMetrics {
  /** 1-based round number. */
  readonly round: number;
  /** Reference inputs asked this round. */
  readonly queries: number;
  /** Their indices in the public reference set (ascending); empty when the round was abandoned. */
  readonly queried: readonly number[];
  /** Reference inputs asked in the completed rounds so far. */
  readonly answered: number;
  /** Unanswered reference inputs the student pseudo-labelled itself this round (0 when off). */
  readonly pseudoLabelled: number;
  /** Sites (0-based) whose inputs were summed; empty when the round was abandoned. */
  readonly survivors: readonly number[];
  /** Why the coordinator abandoned the round (nothing released, nothing charged), else null. */
  readonly abandoned: string | null;
  /** Student test metrics after the round; null while no query has been answered. */
  readonly metrics: ClassificationMetrics | null;
  /** Payload bytes each site's node sent this round, from its own egress log. */
  readonly bytesPerSite: readonly number[];
  /** Cumulative ε at `delta` after this round; null without privacy. */
  readonly epsilon: number | null;
  readonly delta: number | null;
}

/** The published student: inference ONNX taking raw inputs (its standardization is inside). */
export interface SimulatedStudent {
  readonly model: Uint8Array;
  readonly version: number;
  readonly sha256: string;
}

/** The result of `runSimulation`. */
export interface SimulationResult {
  readonly rounds: readonly RoundMetrics[];
  readonly student: SimulatedStudent | null;
  readonly baselines: BaselineResults;
  /** Final cumulative ε (null without privacy) and the federation's RDP curve. */
  readonly epsilon: number | null;
  /**
   * Final cumulative ε at the same δ that a site's own ledger records under node.yaml's default
   * trust, 'paranoid' (only the site's own noise share counts; round-price.ts), whatever the
   * federation's plan assumes: equal to `epsilon` when the plan assumes 'all' colluders, larger
   * otherwise. Null without privacy.
   */
  readonly paranoidEpsilon: number | null;
  readonly rdpCurve: readonly number[];
  readonly classes: number;
  /** The techniques the deployment ran, as its model card records them (null before a student). */
  readonly techniques: unknown;
}

/** A progress event: a short human-readable line, and how far the run is in [0, 1]. */
export interface SimulationProgress {
  readonly message: string;
  readonly fraction: number;
}

export interface SimulationOptions {
  readonly onProgress?: (p: SimulationProgress) => void;
  /** Where the deployment's files go (coordinator, node directories, logs); a temporary folder removed afterwards when absent. */
  readonly workspace?: string;
  /**
   * The split to run on, already loaded (`loadSimulationData(c)`, or a fixed per-record
   * transform of it): a harness running several federations of one split reads it once. The
   * deployment sees only these datasets; `c.dataset` is then not read. Default: loaded from `c`.
   */
  readonly data?: SimulationData;
}

interface RoundView {
  readonly round: number;
  readonly status: 'open' | 'completed' | 'abandoned';
  readonly stage: string;
  readonly deadlines: Readonly<Record<string, string>>;
  readonly awaiting: readonly string[];
  readonly reason: string | null;
  readonly inputsFrom: readonly string[];
}
interface StudentView {
  readonly version: number;
  readonly sha256: string;
  readonly rounds: readonly number[];
  readonly modelCard: {
    readonly techniques?: { readonly selfTraining?: { readonly rowsPseudoLabelled: number } | null };
  };
}

/**
 * Runs the federation the config describes with the deployment's own code (issue 12): the
 * coordinator and one node per site start in this process, connected by an in-memory transport
 * (libs/simulate/src/transport), and every round is planned by the coordinator's round engine,
 * answered by each node's round answerer (teachers, release, noise, secure aggregation), unmasked
 * and distilled by the coordinator's publisher, exactly as deployed. Only the transport, the
 * clock's pace and the randomness differ: each node's noise is seeded (seed x 100 + site), so a
 * config gives the same aggregates, targets and student every time. Simulated dropouts are each
 * site's node.yaml dropout drill (federation-terms.ts, siteDrill). Baselines run afterwards on
 * the pooled data, which no deployment sees.
 */
export async function runSimulation(
  c: SimulationConfig,
  o: SimulationOptions = {},
): Promise<SimulationResult> {
  validateSimulationConfig(c);
  const progress = (message: string, fraction: number): void => o.onProgress?.({ message, fraction });
  const steps = c.rounds + 2;
  const data = o.data ?? (await loadSimulationData(c));
  const workspace = o.workspace ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-simulate-'));
  fs.mkdirSync(workspace, { recursive: true });
  progress(`deploying a coordinator and ${c.sites} nodes in this process`, 0);
  let federation: InProcessFederation | undefined;
  try {
    federation = await startInProcessFederation(c, data, workspace);
    const rounds: RoundMetrics[] = [];
    let student: SimulatedStudent | null = null;
    for (let r = 1; r <= c.rounds; r += 1) {
      progress(`round ${r}/${c.rounds}`, r / steps);
      const played = await playRound(c, federation, r, data.test);
      if (played.student) student = played.student;
      rounds.push({
        round: r,
        queries: 0,
        queried: [],
        answered: 0,
        pseudoLabelled: played.pseudoLabelled,
        // A round abandoned after its inputs arrived lists them, but summed nothing.
        survivors:
          played.view.status === 'completed'
            ? played.view.inputsFrom.map((s) => Number(s.replace('site-', '')) - 1)
            : [],
        abandoned: played.view.status === 'completed' ? null : (played.view.reason ?? played.view.status),
        metrics: played.metrics ?? rounds.at(-1)?.metrics ?? null,
        bytesPerSite: egressBytes(federation.nodeDirs, federation.federationId, r),
        epsilon: null,
        delta: null,
      });
    }
    const deployed = await readDeployedRounds(path.join(workspace, 'coordinator'), federation.federationId);
    const delta = c.privacy.kind === 'none' ? null : c.privacy.delta;
    const final = await fillFromStore(rounds, deployed, delta);
    progress('baselines', (steps - 1) / steps);
    const baselines = await runBaselines(c, data, (m) => progress(m, (steps - 1) / steps));
    progress('done', 1);
    return {
      rounds: final.rounds,
      student,
      baselines,
      epsilon: final.epsilon,
      paranoidEpsilon: final.paranoidEpsilon,
      rdpCurve: deployed.accountant.curve,
      classes: data.reference.numClasses,
      techniques: student ? await techniquesOf(federation, student.version) : null,
    };
  } finally {
    await federation?.close();
    if (!o.workspace) fs.rmSync(workspace, { recursive: true, force: true });
  }
}

async function playRound(
  c: SimulationConfig,
  f: InProcessFederation,
  round: number,
  test: Dataset,
): Promise<{
  view: RoundView;
  student: SimulatedStudent | null;
  metrics: ClassificationMetrics | null;
  pseudoLabelled: number;
}> {
  await f.admin.request('POST', `/federations/${f.federationId}/rounds`, {});
  // The round's own stage deadlines (federation-terms.ts) bound this wait; a stage held open only
  // by sites the simulated dropouts silenced is moved past its deadline (SimulationClock).
  const view = await waitFor(`round ${round} to end`, 9 * 3_600_000, async () => {
    const { rounds } = await f.admin.request<{ rounds: RoundView[] }>(
      'GET',
      `/federations/${f.federationId}/rounds`,
    );
    const r = rounds.find((x) => x.round === round);
    if (r?.status === 'open') passDeadlineOfSilentSites(c, f, r);
    return r && r.status !== 'open' ? r : undefined;
  });
  if (view.status !== 'completed') return { view, student: null, metrics: null, pseudoLabelled: 0 };
  const published = await waitFor(`the student of round ${round}`, 3 * 3_600_000, async () => {
    const { students } = await f.admin.request<{ students: StudentView[] }>(
      'GET',
      `/federations/${f.federationId}/students`,
    );
    return students.find((s) => s.rounds.includes(round));
  });
  const model = await f.admin.download(`/federations/${f.federationId}/students/${published.version}/model`);
  return {
    view,
    student: { model, version: published.version, sha256: published.sha256 },
    metrics: await evaluate(model, test),
    pseudoLabelled: published.modelCard.techniques?.selfTraining?.rowsPseudoLabelled ?? 0,
  };
}

/** Moves the round clock past the open stage's deadline when it waits only for silenced sites. */
function passDeadlineOfSilentSites(c: SimulationConfig, f: InProcessFederation, r: RoundView): void {
  const deadline = r.deadlines[r.stage];
  if (r.awaiting.length === 0 || deadline === undefined) return;
  const silent = silentAt(c, r.round, r.stage);
  if (r.awaiting.every((site) => silent.has(site))) f.clock.passDeadline(Date.parse(deadline));
}

/** The student's metrics on the simulation's test split, computed here from its ONNX. */
async function evaluate(model: Uint8Array, test: Dataset): Promise<ClassificationMetrics> {
  const p = await Predictor.create(model, test.featureShape);
  try {
    const logits = await p.logits(test.features, test.count);
    return classificationMetrics(softmaxRows(logits, test.numClasses), test.labels, test.numClasses);
  } finally {
    await p.dispose();
  }
}

/** Queries, answered rows and cumulative epsilon per round, from the coordinator's own store. */
async function fillFromStore(
  rounds: RoundMetrics[],
  deployed: Awaited<ReturnType<typeof readDeployedRounds>>,
  delta: number | null,
): Promise<{ rounds: RoundMetrics[]; epsilon: number | null; paranoidEpsilon: number | null }> {
  const { RdpAccountant } = await import('@fedistill/dp');
  const { releasePlanOf } = await import('@fedistill/protocol');
  const accountant = new RdpAccountant();
  // What a paranoid site's ledger adds for the same rounds (countedNoise, as round-price.ts).
  const paranoid = new RdpAccountant();
  const asked = new Set<number>();
  const out = rounds.map((r) => {
    const done = deployed.completed.find((x) => x.round === r.round);
    if (done) {
      const plan = releasePlanOf(done.plan);
      if (plan.mechanism) accountant.add(plan.mechanism);
      if (plan.noise) paranoid.add(countedNoise(plan, { kind: 'paranoid' }).mechanism);
      done.plan.queries.forEach((q) => asked.add(q));
    }
    return {
      ...r,
      queries: done?.plan.queries.length ?? 0,
      queried: done ? [...done.plan.queries] : [],
      answered: asked.size,
      epsilon: delta === null ? null : accountant.epsilon(delta).epsilon,
      delta,
    };
  });
  return {
    rounds: out,
    epsilon: delta === null ? null : accountant.epsilon(delta).epsilon,
    paranoidEpsilon: delta === null ? null : paranoid.epsilon(delta).epsilon,
  };
}

async function techniquesOf(f: InProcessFederation, version: number): Promise<unknown> {
  const s = await f.admin.request<{ modelCard: { techniques?: unknown } }>(
    'GET',
    `/federations/${f.federationId}/students/${version}`,
  );
  return s.modelCard.techniques ?? null;
}
