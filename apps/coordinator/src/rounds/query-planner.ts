import { selectSamples } from '@fedistill/data';
import { selectQueries, softmaxRows } from '@fedistill/distill';
import { Predictor } from '@fedistill/engine';
import { type FederationSpec, federationSpecSchema, type QuerySelection } from '@fedistill/protocol';
import type { CoordinatorStore } from '@fedistill/store';
import { RequestInvalidError } from '../domain/errors';
import type { FederationService } from '../federation/federation.service';
import { completedRounds } from '../students/completed-rounds';

/** The federation's query strategy (definitions stored before rounds.querySelection existed: random). */
export function querySelectionOf(spec: FederationSpec): FederationSpec['rounds']['querySelection'] {
  return (spec.rounds as Partial<FederationSpec['rounds']>).querySelection ?? 'random';
}

/** The federation's distillation settings (definitions stored before the section existed: its defaults). */
function distillationOf(spec: FederationSpec): FederationSpec['distillation'] {
  return federationSpecSchema.shape.distillation.parse(
    (spec as { distillation?: unknown }).distillation ?? {},
  );
}

/** The student publisher as the planner needs it: a way to wait for the student of a round. */
export interface StudentQueue {
  /** Resolves once the student covering completed round `round` is published or its training failed. */
  settle(federationId: string, round: number): Promise<void>;
}

/** A round's queries and how they were chosen. */
export interface ChosenQueries {
  /** Reference rows, ascending. */
  readonly queries: number[];
  readonly selection: QuerySelection;
}

/** Student inference runs over the candidates in batches of this many rows (bounds memory). */
const BATCH_ROWS = 4096;

/**
 * Chooses a distillation round's queries among the reference rows that no completed round of the
 * federation asked (the candidates), with the federation's rounds.querySelection, exactly as the
 * simulator does (libs/simulate run-simulation.ts chooseQueries), so one seed gives one choice:
 * - 'random': libs/distill selectQueries seeded with distillation.seed * 1000 + round. Query
 *   choice needs no secrecy (the queries are announced to every site and public reference rows
 *   carry no private data), so a reproducible seed replaces the CSPRNG;
 * - 'least-confident': the rows where the latest published student's top-class probability is
 *   lowest (uncertainty sampling; ties to the smaller row). The student is post-processing of
 *   released targets and runs on public inputs only, so this choice costs no privacy. Before any
 *   student exists it is random. It waits for the student covering every completed round (the
 *   publisher's queue), so the choice does not depend on how fast training ran.
 */
export class QueryPlanner {
  constructor(
    private readonly store: CoordinatorStore,
    private readonly federations: FederationService,
    private readonly students: StudentQueue,
  ) {}

  async choose(spec: FederationSpec, round: number): Promise<ChosenQueries> {
    const completed = completedRounds(await this.store.rounds.list(spec.id));
    const asked = new Set(completed.flatMap((r) => r.plan.queries));
    const rows = await this.federations.referenceRows(spec.id);
    const candidates = Array.from({ length: rows }, (_v, i) => i).filter((i) => !asked.has(i));
    if (candidates.length === 0)
      throw new RequestInvalidError(
        `every one of the ${rows} reference rows of federation '${spec.id}' was asked by a completed round; a new round would have nothing to ask`,
      );
    const k = spec.rounds.queriesPerRound;
    const d = distillationOf(spec);
    const seed = d.seed * 1000 + round;
    const last = completed.at(-1)?.round;
    if (querySelectionOf(spec) === 'least-confident' && last !== undefined) {
      await this.students.settle(spec.id, last);
      const student = await this.store.students.latest(spec.id);
      if (student) {
        const probs = await this.probabilities(spec, student.sha256, candidates, d.threads);
        const classes = spec.labels.length;
        return {
          queries: selectQueries(candidates, k, { kind: 'least-confident' }, seed, { probs, classes }),
          selection: { strategy: 'least-confident', studentVersion: student.version },
        };
      }
    }
    return {
      queries: selectQueries(candidates, k, { kind: 'random' }, seed),
      selection: { strategy: 'random' },
    };
  }

  /** The published student's class probabilities on the candidate reference rows (it standardizes inside). */
  private async probabilities(
    spec: FederationSpec,
    sha256: string,
    candidates: readonly number[],
    threads: number,
  ): Promise<Float32Array> {
    const reference = await this.federations.referenceDataset(spec.id);
    const onnx = await this.federations.artifactBytes(sha256);
    const classes = spec.labels.length;
    const predictor = await Predictor.create(onnx, reference.featureShape, { threads });
    try {
      const probs = new Float32Array(candidates.length * classes);
      for (let start = 0; start < candidates.length; start += BATCH_ROWS) {
        const batch = selectSamples(reference, candidates.slice(start, start + BATCH_ROWS));
        const logits = await predictor.logits(batch.features, batch.count);
        probs.set(softmaxRows(logits, classes), start * classes);
      }
      return probs;
    } finally {
      await predictor.dispose();
    }
  }
}
