import type { CoordinatorStore, StudentRecord } from '@fedistill/store';
import type { NodeEventHub } from '../domain/node-event-hub';
import type { Transcript } from '../domain/transcript';
import type { EvaluationSets } from '../federation/evaluation-sets';
import { type FederationSpec, federationSpecSchema } from '@fedistill/protocol';
import { ARTIFACT_CHUNK_BYTES, type FederationService } from '../federation/federation.service';
import { completedRounds } from './completed-rounds';
import { accumulateTargets, classSumData, targetRuleOf } from './distillation-targets';
import { extractFeatures } from '@fedistill/features';
import { buildModelCard } from './model-card';
import { privacySpent } from './privacy-spent';
import { trainStudent } from './train-student';

/** Where a completed round's student stands, as the round view shows it. */
export type RoundStudent =
  | { readonly state: 'published'; readonly version: number; readonly sha256: string }
  | { readonly state: 'training' }
  | { readonly state: 'failed'; readonly reason: string };

/** A student just published, and how long its distillation took (wall clock, seconds). */
export interface StudentPublished {
  readonly record: StudentRecord;
  readonly trainingSeconds: number;
}

/** Definitions stored before the distillation section existed get its defaults. */
function withDefaults(spec: FederationSpec): FederationSpec {
  const raw = (spec as { distillation?: unknown }).distillation ?? {};
  return { ...spec, distillation: federationSpecSchema.shape.distillation.parse(raw) };
}

/**
 * Publishes a student after each completed round (SPEC, "What a round does", steps 5 and 6):
 * targets from every completed round of the federation, distillation, ONNX, model card, a
 * versioned artifact, and a StudentPublished event to the member sites. Work runs in a queue per
 * federation, after the request that completed the round has been answered.
 */
export class StudentPublisher {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly training = new Map<string, Set<number>>();
  private readonly failures = new Map<string, string>();
  private readonly published: Array<(published: StudentPublished) => void> = [];

  constructor(
    private readonly store: CoordinatorStore,
    private readonly federations: FederationService,
    private readonly evaluationSets: EvaluationSets,
    private readonly hub: NodeEventHub,
    private readonly transcript: Transcript,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called with each student once it is stored and announced (metrics listen); must not block. */
  onPublished(listener: (published: StudentPublished) => void): void {
    this.published.push(listener);
  }

  /**
   * Schedules a student for the federation's completed rounds (after `round` completed); resolves
   * with the published record, or null when every completed round is already in a student.
   */
  enqueue(federationId: string, round: number): Promise<StudentRecord | null> {
    const rounds = this.training.get(federationId) ?? new Set<number>();
    rounds.add(round);
    this.training.set(federationId, rounds);
    const previous = this.queues.get(federationId) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      // setImmediate: the request that completed the round is answered before training starts.
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(() => this.publishPending(federationId))
      .then(
        (published) => {
          rounds.delete(round);
          return published;
        },
        async (err: unknown) => {
          rounds.delete(round);
          const reason = err instanceof Error ? err.message : String(err);
          this.failures.set(`${federationId}#${round}`, reason);
          await this.transcript.append({
            event: 'round',
            federation: federationId,
            round: String(round),
            detail: `student training failed: ${reason}`,
          });
          throw err;
        },
      );
    this.queues.set(federationId, next);
    return next;
  }

  /**
   * Resolves once the student covering completed round `round` is published, or its training
   * failed (the query planner waits here, so least-confident queries use that student). The round
   * is stored completed just before the engine tells the publisher, so a caller may get here
   * first: then it queues the publication itself (which does nothing when a student covers it).
   * A training that already failed is not retried here.
   */
  async settle(federationId: string, round: number): Promise<void> {
    if (this.failures.has(`${federationId}#${round}`)) {
      await (this.queues.get(federationId) ?? Promise.resolve()).catch(() => undefined);
      return;
    }
    await this.enqueue(federationId, round).catch(() => undefined);
  }

  /** After a restart: a completed round recorded without a student gets one now. */
  async resume(): Promise<Array<{ federationId: string; round: number; publication: Promise<unknown> }>> {
    const pending = [];
    for (const f of await this.store.federations.list()) {
      const last = (await this.store.rounds.list(f.id)).filter((r) => r.status === 'completed').at(-1);
      const covered = Math.max(0, ...((await this.store.students.latest(f.id))?.rounds ?? []));
      if (last && last.round > covered)
        pending.push({ federationId: f.id, round: last.round, publication: this.enqueue(f.id, last.round) });
    }
    return pending;
  }

  /** The student state of each round of the federation that has one. */
  async roundStudents(federationId: string): Promise<Map<number, RoundStudent>> {
    const out = new Map<number, RoundStudent>();
    for (const [key, reason] of this.failures) {
      const [fed, round] = key.split('#');
      if (fed === federationId) out.set(Number(round), { state: 'failed', reason });
    }
    for (const round of this.training.get(federationId) ?? []) out.set(round, { state: 'training' });
    // The first student that includes a round is the one published for it.
    for (const s of [...(await this.store.students.list(federationId))].reverse())
      for (const round of s.rounds)
        out.set(round, { state: 'published', version: s.version, sha256: s.sha256 });
    return out;
  }

  private async publishPending(federationId: string): Promise<StudentRecord | null> {
    const federation = await this.federations.get(federationId);
    const spec = withDefaults(federation);
    const rounds = completedRounds(await this.store.rounds.list(federationId));
    const latest = await this.store.students.latest(federationId);
    const covered = Math.max(0, ...(latest?.rounds ?? []));
    if (!rounds.some((r) => r.round > covered)) return null;
    const classes = spec.labels.length;
    const reference = await this.federations.referenceDataset(federationId);
    const evaluation = await this.evaluationSets.load(federationId);
    const lastRound = rounds.at(-1)?.round ?? 0;
    const extractor = await this.federations.featureExtractor(federationId);
    // Class sums (privacy.summary 'class-sums') label every reference row through their ridge
    // classifier on the (extracted) reference rows; other rounds give their answered rows.
    const data =
      (spec.privacy.summary === 'class-sums'
        ? classSumData(
            rounds,
            extractor
              ? await extractFeatures(extractor, reference, { threads: spec.distillation.threads })
              : reference,
            classes,
          )
        : null) ?? accumulateTargets(rounds, targetRuleOf(spec.distillation), classes);
    const trained = await trainStudent(spec, reference, data, evaluation?.data ?? null, lastRound, extractor);
    const at = this.now();
    const artifact = await this.store.artifacts.put('student', trained.onnx, ARTIFACT_CHUNK_BYTES, at);
    const version = (latest?.version ?? 0) + 1;
    const privacy = privacySpent(rounds, spec.privacy.delta);
    const card = buildModelCard({
      spec,
      version,
      createdAt: at,
      onnx: { sha256: artifact.sha256, bytes: artifact.totalBytes },
      referenceRows: reference.count,
      rowsDistilled: data.rows.length,
      rounds: rounds.map((r) => ({
        round: r.round,
        sites: r.sites,
        queries: r.plan.queries.length,
        querySelection: r.plan.querySelection ?? null,
      })),
      pseudoLabelled: trained.pseudoLabelled,
      privacy,
      trainingSeconds: trained.seconds,
      metrics: trained.metrics,
      features: extractor && { sha256: extractor.sha256, outputSize: extractor.outputSize },
      evaluationSet: evaluation && {
        inputsSha256: evaluation.record.inputsSha256,
        labelsSha256: evaluation.record.labelsSha256,
        rows: evaluation.record.rows,
      },
    });
    const record: StudentRecord = {
      federationId,
      version,
      sha256: artifact.sha256,
      rounds: rounds.map((r) => r.round),
      modelCard: card,
      createdAt: at,
    };
    await this.store.students.create(record);
    for (const r of rounds) this.failures.delete(`${federationId}#${r.round}`);
    await this.transcript.append({
      event: 'round',
      federation: federationId,
      round: String(lastRound),
      sha256: artifact.sha256,
      epsilon: privacy.epsilon === null ? '' : String(privacy.epsilon),
      detail:
        `student v${version} published: ${data.rows.length} reference rows from rounds ${record.rounds.join(', ')}; ` +
        (privacy.mechanism === 'none' ? 'PRIVACY: NONE' : `${privacy.mechanism}, epsilon ${privacy.epsilon}`),
    });
    for (const site of federation.members) {
      this.hub.push(site, {
        $case: 'studentPublished',
        value: { federationId, version, sha256: Buffer.from(artifact.sha256, 'hex') },
      });
    }
    for (const listener of this.published) listener({ record, trainingSeconds: trained.seconds });
    return record;
  }
}
