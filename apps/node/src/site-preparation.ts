import type { TeacherEnsemble } from '@fedistill/distill';
import type { LocalFederation } from './federation-sync';
import type { NodeConfig } from './node-config';
import type { SessionLogger } from './node-session';
import { revisitTerms, type RevisitTerms } from './revisit-terms';
import {
  federationSchema,
  type FederationSchema,
  loadSiteData,
  type SiteData,
  siteTeachers,
} from './site-data';

/** What a site holds for one federation once prepared: its schema, data and teachers. */
export interface PreparedSite {
  readonly schema: FederationSchema;
  readonly data: SiteData;
  readonly teachers: TeacherEnsemble;
  /** The federation's digest-and-revisit terms, or null when it has none. */
  readonly revisit: RevisitTerms | null;
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
    const data = await loadSiteData(this.config, schema);
    const started = Date.now();
    const teachers = await siteTeachers(this.config, schema, data, undefined, revisit !== null);
    this.log.info(
      {
        federation: local.id,
        teachers: teachers.size,
        records: data.train.count,
        testRecords: data.test?.count ?? 0,
        provider: this.config.executionProvider,
        revisit: revisit !== null,
        ms: Date.now() - started,
      },
      'teachers ready',
    );
    return { schema, data, teachers, revisit };
  }

  /** Releases every prepared federation's teachers (their ONNX Runtime sessions). */
  async dispose(): Promise<void> {
    for (const p of this.prepared.values()) await p.then((x) => x.teachers.dispose()).catch(() => undefined);
    this.prepared.clear();
  }
}
