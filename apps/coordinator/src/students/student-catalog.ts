import { decodeState } from '@fedistill/secagg';
import type { ArtifactRecord, CoordinatorStore, StudentRecord } from '@fedistill/store';
import { NotFoundError, RequestInvalidError } from '../domain/errors';
import type { FederationService } from '../federation/federation.service';
import type { RoundSnapshot } from '../rounds/live-round';
import { evaluationOf } from '../rounds/round-view';
import { type ModelCard, modelCardMarkdown, type SiteEvaluation } from './model-card';

/** A published student as the admin API shows it. */
export interface StudentView {
  readonly federationId: string;
  readonly version: number;
  readonly sha256: string;
  readonly bytes: number;
  readonly rounds: readonly number[];
  readonly publishedAt: string;
  readonly modelCard: ModelCard;
  readonly modelCardMarkdown: string;
}

/** Published students: for operators (admin API) and member sites (Artifacts service). */
export class StudentCatalog {
  constructor(
    private readonly store: CoordinatorStore,
    private readonly federations: FederationService,
  ) {}

  async list(federationId: string): Promise<StudentView[]> {
    await this.federations.get(federationId);
    const records = await this.store.students.list(federationId);
    const evaluations = await this.siteEvaluations(federationId);
    return Promise.all(records.map((r) => this.view(r, evaluations)));
  }

  /** One student; version 0 is the latest. */
  async get(federationId: string, version: number): Promise<StudentView> {
    await this.federations.get(federationId);
    const record = await this.record(federationId, version);
    return this.view(record, await this.siteEvaluations(federationId));
  }

  /** The student for a member site (NOT_FOUND for non-members, as for the reference set). */
  async forMember(
    federationId: string,
    site: string,
    version: number,
  ): Promise<{ record: StudentRecord; artifact: ArtifactRecord }> {
    await this.federations.forMember(federationId, site);
    const record = await this.record(federationId, version);
    return { record, artifact: await this.federations.artifactFor(site, record.sha256) };
  }

  /** The student's ONNX bytes, checked against its digest. */
  async onnx(federationId: string, version: number): Promise<{ view: StudentView; bytes: Uint8Array }> {
    const view = await this.get(federationId, version);
    return { view, bytes: await this.federations.artifactBytes(view.sha256) };
  }

  private async record(federationId: string, version: number): Promise<StudentRecord> {
    if (!Number.isInteger(version) || version < 0)
      throw new RequestInvalidError(
        `student version must be an integer >= 1 (0 for the latest), not ${version}`,
      );
    const latest = await this.store.students.latest(federationId);
    if (!latest) throw new NotFoundError(`federation '${federationId}' has no published student yet`);
    if (version === 0) return latest;
    const record = await this.store.students.get(federationId, version);
    if (!record)
      throw new NotFoundError(
        `federation '${federationId}' has no student version ${version} (latest is ${latest.version})`,
      );
    return record;
  }

  /** The federation's completed evaluation rounds, by the student version they evaluated. */
  private async siteEvaluations(federationId: string): Promise<Map<number, SiteEvaluation[]>> {
    const byVersion = new Map<number, SiteEvaluation[]>();
    for (const r of await this.store.rounds.list(federationId)) {
      if (r.status !== 'completed') continue;
      const evaluation = evaluationOf(decodeState<RoundSnapshot>(r.engine));
      if (!evaluation) continue;
      const { studentVersion, ...rest } = evaluation;
      byVersion.set(studentVersion, [...(byVersion.get(studentVersion) ?? []), { round: r.round, ...rest }]);
    }
    return byVersion;
  }

  private async view(
    r: StudentRecord,
    evaluations: ReadonlyMap<number, SiteEvaluation[]>,
  ): Promise<StudentView> {
    const artifact = await this.store.artifacts.get(r.sha256);
    const card: ModelCard = {
      ...(r.modelCard as ModelCard),
      siteEvaluations: evaluations.get(r.version) ?? [],
    };
    return {
      federationId: r.federationId,
      version: r.version,
      sha256: r.sha256,
      bytes: artifact?.totalBytes ?? 0,
      rounds: r.rounds,
      publishedAt: new Date(r.createdAt).toISOString(),
      modelCard: card,
      modelCardMarkdown: modelCardMarkdown(card),
    };
  }
}
