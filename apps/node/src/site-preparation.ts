import type { Dataset } from '@fedistill/data';
import type { AuditEntryInput } from '@fedistill/audit';
import type { AbstentionGates, TeacherEnsemble } from '@fedistill/distill';
import { type ProviderSelection, selectProvider } from '@fedistill/engine';
import { extractFeatures } from '@fedistill/features';
import type { LocalFederation } from './federation-sync';
import type { NodeConfig } from './node-config';
import type { SessionLogger } from './node-session';
import { revisitTerms, type RevisitTerms } from './revisit-terms';
import { siteAbstention } from './site-abstention';
import { rebuildSiteFeatures, type SiteFeatures } from './site-features';
import {
  federationSchema,
  type FederationSchema,
  loadSiteData,
  type SiteData,
  SiteDataError,
  siteTeachers,
} from './site-data';

/** What a site holds for one federation once prepared: its schema, data and teachers. */
export interface PreparedSite {
  readonly schema: FederationSchema;
  /** The site's records as loaded (raw inputs: the local test split is what students are evaluated on). */
  readonly data: SiteData;
  readonly teachers: TeacherEnsemble;
  /** The teachers' abstention gates (node.yaml teachers.abstain), or null when every teacher answers every query. */
  readonly abstention: AbstentionGates | null;
  /** The federation's feature extractor as this site rebuilt and checked it; null without `features`. */
  readonly features: SiteFeatures | null;
  /** The training records through that extractor (what teachers and class sums use); null without `features`. */
  readonly trainFeatures: Dataset | null;
  /** The federation's digest-and-revisit terms, or null when it has none. */
  readonly revisit: RevisitTerms | null;
  /** The execution provider the teachers run on (node.yaml's, `auto` resolved) and why others were refused. */
  readonly provider: ProviderSelection;
  /** How long loading the data and training (or loading) the teachers took, ms. */
  readonly trainingMs: number;
}

/**
 * Loads the site's data and trains its teachers for a federation, once (every round reuses
 * them). Teachers trained for a federation with `revisit` keep their weights and partitions so
 * teacher-revisit.ts can fine-tune them between rounds.
 */
export class SitePreparation {
  private readonly prepared = new Map<string, Promise<PreparedSite>>();

  constructor(
    private readonly config: NodeConfig,
    private readonly log: SessionLogger,
  ) {}

  prepare(local: LocalFederation): Promise<PreparedSite> {
    let p = this.prepared.get(local.id);
    if (!p) {
      p = this.load(local);
      p.catch(() => this.prepared.delete(local.id));
      this.prepared.set(local.id, p);
    }
    return p;
  }

  private async load(local: LocalFederation): Promise<PreparedSite> {
    const schema = federationSchema(local.id, local.spec);
    const revisit = revisitTerms(local.id, local.spec);
    const started = Date.now();
    // Before the site's records are read: a federation whose extractor this site cannot rebuild
    // to the recorded digest is refused here, so nothing is trained, answered or charged.
    const features = await this.features(local, schema);
    const data = await loadSiteData(this.config, schema);
    // Resolved once per training: `auto` probes cuda and webgpu here, not in every teacher's session.
    const provider = await selectProvider({ provider: this.config.executionProvider });
    const refused = Object.fromEntries(provider.refused.map((r) => [r.provider, r.reason]));
    const chosen = {
      federation: local.id,
      executionProvider: provider.requested,
      provider: provider.provider,
      refused,
    };
    if (provider.requested === 'auto' && provider.provider === 'cpu')
      this.log.warn(
        chosen,
        'execution provider auto: no GPU provider passed the probe; teachers train on cpu',
      );
    else
      this.log.info(
        { ...chosen, probe: provider.probe },
        `execution provider: teachers train on ${provider.provider}`,
      );
    // Whole-dataset extraction (not record by record) is safe because the extractor was rebuilt
    // here and matched the recorded digest: the graph is the known per-record function of the
    // definition and the public reference set, applied to each record alone.
    const trainFeatures = features
      ? await extractFeatures(features.extractor, data.train, { threads: 1 })
      : null;
    const trainOn = trainFeatures ? { train: trainFeatures, test: data.test } : data;
    const teachers = await siteTeachers(
      this.config,
      schema,
      trainOn,
      undefined,
      revisit !== null,
      provider.provider,
    );
    const abstention = siteAbstention(this.config, local, schema, features, teachers);
    const trainingMs = Date.now() - started;
    this.log.info(
      {
        federation: local.id,
        teachers: teachers.size,
        // Teachers per training graph; absent for site-provided ONNX teachers.
        perGraph: this.config.teachers.onnx ? undefined : this.config.teachers.perGraph,
        records: data.train.count,
        testRecords: data.test?.count ?? 0,
        provider: provider.provider,
        revisit: revisit !== null,
        abstain: this.config.teachers.abstain ?? null,
        features: features
          ? { sha256: features.extractor.sha256, size: features.extractor.outputSize }
          : null,
        ms: trainingMs,
      },
      'teachers ready',
    );
    return { schema, data, teachers, abstention, features, trainFeatures, revisit, provider, trainingMs };
  }

  /** The rebuilt and checked extractor, or null; refuses site-provided ONNX teachers with one. */
  private async features(local: LocalFederation, schema: FederationSchema): Promise<SiteFeatures | null> {
    const features = await rebuildSiteFeatures(local, schema);
    if (features) {
      this.log.info(
        { federation: local.id, sha256: features.extractor.sha256, size: features.extractor.outputSize },
        'feature extractor rebuilt and matches the recorded digest',
      );
      // Site-provided teachers take raw inputs and cannot be given the features instead: refused
      // rather than answering with a model the federation's extractor never fed.
      if (this.config.teachers.onnx)
        throw new SiteDataError(
          `teachers.onnx: federation '${local.id}' uses a feature extractor (features), and site-provided ONNX teachers take raw inputs; let the node train its teachers (teachers.count) for this federation`,
        );
    }
    return features;
  }

  /** Releases every prepared federation's teachers (their ONNX Runtime sessions). */
  async dispose(): Promise<void> {
    for (const p of this.prepared.values()) await p.then((x) => x.teachers.dispose()).catch(() => undefined);
    this.prepared.clear();
  }
}

/**
 * The site's audit entry for the teachers a round runs on (written at the first round that uses
 * them): how many, trained here or loaded from teachers.onnx, the execution provider node.yaml
 * asks for, the one they ran on, and why `auto` refused the others (docs/gpu.md).
 */
export function teachersAuditEntry(
  site: PreparedSite,
  config: NodeConfig,
  federation: string,
  round: number,
): AuditEntryInput {
  const p = site.provider;
  const detail = {
    teachers: site.teachers.size,
    source: config.teachers.onnx ? 'teachers.onnx' : 'trained',
    ...(config.teachers.onnx ? {} : { perGraph: config.teachers.perGraph }),
    ...(site.abstention ? { abstain: config.teachers.abstain } : {}),
    executionProvider: p.requested,
    provider: p.provider,
    refused: Object.fromEntries(p.refused.map((r) => [r.provider, r.reason])),
    ...(p.probe ? { probeMs: Number((p.probe.sessionMs + p.probe.runMs).toFixed(1)) } : {}),
    ms: site.trainingMs,
  };
  return {
    event: 'round',
    federation,
    round: String(round),
    kind: 'Teachers/Ready',
    detail: JSON.stringify(detail),
  };
}
