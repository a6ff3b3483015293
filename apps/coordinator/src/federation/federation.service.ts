import { createHash } from 'node:crypto';
import { type Dataset, parseNpy } from '@fedistill/data';
import type { FeatureExtractor } from '@fedistill/features';
import type { ArtifactRecord, CoordinatorStore } from '@fedistill/store';
import { NotFoundError, RequestInvalidError } from '../domain/errors';
import type { NodeEventHub } from '../domain/node-event-hub';
import type { Transcript } from '../domain/transcript';
import {
  type FederationSpec,
  type FederationView,
  noiseAgainstSignal,
  parseFederationSpec,
} from '@fedistill/protocol';
import { buildFederationExtractor, recordDigest } from './federation-features';

/** Reference sets and students are served in chunks of this size (the wire limit of Chunk.data). */
export const ARTIFACT_CHUNK_BYTES = 1024 * 1024;

export interface ReferenceSetView {
  readonly sha256: string;
  readonly totalBytes: number;
  readonly chunks: number;
  /** Number of reference inputs (the first dimension). */
  readonly rows: number;
  /** Shape of one input. */
  readonly sampleShape: readonly number[];
}

function describeReference(source: string, bytes: Uint8Array): Omit<ReferenceSetView, 'sha256' | 'chunks'> {
  let array;
  try {
    array = parseNpy(source, bytes);
  } catch (err) {
    throw new RequestInvalidError(`reference set: ${(err as Error).message}`);
  }
  if (array.shape.length < 2)
    throw new RequestInvalidError(
      `reference set: shape [${array.shape.join(', ')}] must be [rows, ...input shape]`,
    );
  if (!(array.data instanceof Float32Array) && !(array.data instanceof Float64Array)) {
    throw new RequestInvalidError('reference set: values must be float32 or float64');
  }
  if (array.shape.some((d) => d < 1))
    throw new RequestInvalidError(
      `reference set: shape [${array.shape.join(', ')}] has a dimension of 0, so it holds no inputs`,
    );
  // Sites read the rows as float32: a NaN, an infinity or a float64 beyond float32 would reach
  // every teacher and every summary (found by fuzzing, test/fuzz).
  const bad = array.data.findIndex((v) => !Number.isFinite(Math.fround(v)));
  if (bad >= 0) {
    const per = array.data.length / array.shape[0]!;
    throw new RequestInvalidError(
      `reference set: value ${array.data[bad]} of row ${Math.floor(bad / per)} is not a finite float32`,
    );
  }
  return { totalBytes: bytes.length, rows: array.shape[0] ?? 0, sampleShape: array.shape.slice(1) };
}

/** Federations, their reference sets and their members. */
export class FederationService {
  private readonly extractors = new Map<string, Promise<FeatureExtractor | null>>();

  constructor(
    private readonly store: CoordinatorStore,
    private readonly transcript: Transcript,
    private readonly hub: NodeEventHub,
    private readonly now: () => number = Date.now,
  ) {}

  /** Validates an NPY reference set (float32/float64, [rows, ...input]) and stores it by content. */
  async registerReferenceSet(bytes: Uint8Array): Promise<ReferenceSetView> {
    const described = describeReference('reference set', bytes);
    const record = await this.store.artifacts.put('reference-set', bytes, ARTIFACT_CHUNK_BYTES, this.now());
    await this.transcript.append({
      event: 'admin',
      detail: `reference set registered: sha256 ${record.sha256}, ${described.rows} rows`,
    });
    return { ...described, sha256: record.sha256, chunks: record.chunkSha256.length };
  }

  /**
   * Validates and stores a definition. The answer carries `warnings`: today, when the noise
   * of a round of rounds.minSites sites exceeds the teachers' largest possible signal.
   */
  async create(input: unknown): Promise<FederationView & { warnings: string[] }> {
    const parsed = parseFederationSpec(input);
    if (!parsed.ok) throw new RequestInvalidError(`invalid federation: ${parsed.problems.join('; ')}`);
    const spec = parsed.spec;
    const reference = await this.referenceView(spec.referenceSet.sha256);
    if (reference.sampleShape.join('x') !== spec.input.shape.join('x')) {
      throw new RequestInvalidError(
        `invalid federation: input.shape [${spec.input.shape.join(', ')}] does not match the reference set's inputs [${reference.sampleShape.join(', ')}]`,
      );
    }
    // The feature extractor is fixed now, before any private record is seen: its digest is
    // recorded with the definition, and every member site rebuilds it and compares.
    const extractor = spec.features
      ? await buildFederationExtractor(
          spec,
          this.datasetOf(spec, await this.artifactBytes(spec.referenceSet.sha256)),
        )
      : null;
    const recorded = recordDigest(spec, extractor);
    await this.store.federations.create({ id: spec.id, spec: recorded, createdAt: this.now() });
    await this.transcript.append({
      event: 'admin',
      federation: spec.id,
      detail: `federation created: ${JSON.stringify(recorded)}`,
    });
    // Rounds have at least rounds.minSites sites; the warning is repeated when a round is planned.
    const warning = noiseAgainstSignal(spec, spec.rounds.minSites)?.warning;
    if (warning)
      await this.transcript.append({ event: 'admin', federation: spec.id, detail: `warning: ${warning}` });
    const created: FederationView & { warnings: string[] } = {
      ...(await this.get(spec.id)),
      warnings: warning ? [warning] : [],
    };
    return created;
  }

  async list(): Promise<FederationView[]> {
    return Promise.all((await this.store.federations.list()).map((f) => this.get(f.id)));
  }

  async get(id: string): Promise<FederationView> {
    const record = await this.store.federations.get(id);
    if (!record) throw new NotFoundError(`federation '${id}' does not exist`);
    const spec = record.spec as FederationSpec;
    return {
      ...spec,
      members: await this.store.federations.members(id),
      createdAt: new Date(record.createdAt).toISOString(),
      privacyOff: spec.privacy.mechanism === 'none',
    };
  }

  async addSite(id: string, site: string): Promise<FederationView> {
    await this.store.federations.addMember(id, site, this.now());
    await this.transcript.append({
      event: 'admin',
      federation: id,
      peer: site,
      detail: 'site added to the federation',
    });
    // A connected node learns its new federation list at once (and syncs the reference set).
    const federationIds = await this.store.federations.federationsOf(site);
    this.hub.push(site, { $case: 'welcome', value: { siteName: site, federationIds } });
    return this.get(id);
  }

  /** Federations the site belongs to. */
  idsOf(site: string): Promise<string[]> {
    return this.store.federations.federationsOf(site);
  }

  /** The definition a member site may see; NOT_FOUND for non-members (no existence oracle). */
  async forMember(id: string, site: string): Promise<FederationView> {
    const members = await this.store.federations.members(id);
    if (!members.includes(site))
      throw new NotFoundError(`federation '${id}' does not exist or site '${site}' is not a member`);
    return this.get(id);
  }

  /**
   * The members of a federation with the identity keys they enrolled with, for a member site
   * (NOT_FOUND otherwise). A site's operator approves this roster by its key fingerprints; the
   * node then checks every round's participants against what was approved, not against this.
   */
  async memberKeys(id: string, site: string): Promise<{ name: string; signingPublicKey: Uint8Array }[]> {
    const { members } = await this.forMember(id, site);
    const records = await Promise.all(members.map((m) => this.store.sites.get(m)));
    return records.flatMap((r) => (r ? [{ name: r.name, signingPublicKey: r.signingPublicKey }] : []));
  }

  /**
   * The artifact, if `site` belongs to a federation that uses it: its reference set or one of its
   * published students. Nothing else is ever served (evaluation sets in particular).
   */
  async artifactFor(site: string, sha256: string): Promise<ArtifactRecord> {
    for (const id of await this.store.federations.federationsOf(site)) {
      const spec = (await this.store.federations.get(id))?.spec as FederationSpec | undefined;
      const served =
        spec?.referenceSet.sha256 === sha256 ||
        (await this.store.students.list(id)).some((s) => s.sha256 === sha256);
      if (served) {
        const record = await this.store.artifacts.get(sha256);
        if (record && record.kind !== 'evaluation-set') return record;
      }
    }
    throw new NotFoundError(`no artifact ${sha256} for site '${site}'`);
  }

  /** A stored artifact's bytes, reassembled from its chunks and checked against its digest. */
  async artifactBytes(sha256: string): Promise<Uint8Array> {
    const record = await this.store.artifacts.get(sha256);
    if (!record) throw new NotFoundError(`artifact ${sha256} does not exist`);
    const parts = await Promise.all(record.chunkSha256.map((_c, i) => this.store.artifacts.chunk(sha256, i)));
    const bytes = Buffer.concat(parts.map((p) => Buffer.from(p ?? new Uint8Array())));
    if (createHash('sha256').update(bytes).digest('hex') !== sha256)
      throw new Error(`artifact ${sha256} is corrupt in the store (its chunks do not hash to its digest)`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The federation's reference inputs as a dataset (no labels: the reference set is unlabelled). */
  async referenceDataset(id: string): Promise<Dataset> {
    const view = await this.get(id);
    return this.datasetOf(view, await this.artifactBytes(view.referenceSet.sha256));
  }

  /**
   * The federation's feature extractor (null without `features`), rebuilt from its definition and
   * reference set once per process and checked against the digest recorded at creation: the
   * student must be trained on the very features the sites checked.
   */
  featureExtractor(id: string): Promise<FeatureExtractor | null> {
    let built = this.extractors.get(id);
    if (!built) {
      built = (async () => {
        const view = await this.get(id);
        const extractor = await buildFederationExtractor(view, await this.referenceDataset(id));
        if (extractor && extractor.sha256 !== view.features?.sha256)
          throw new Error(
            `federation '${id}': the feature extractor rebuilt here (${extractor.sha256}) is not the one recorded (${view.features?.sha256 ?? 'none'})`,
          );
        return extractor;
      })();
      built.catch(() => this.extractors.delete(id));
      this.extractors.set(id, built);
    }
    return built;
  }

  private datasetOf(spec: Pick<FederationSpec, 'labels'>, npy: Uint8Array): Dataset {
    const array = parseNpy('reference set', npy);
    const count = array.shape[0] ?? 0;
    return {
      features: Float32Array.from(array.data as Float32Array | Float64Array),
      labels: new Int32Array(count),
      count,
      featureShape: array.shape.slice(1),
      numClasses: spec.labels.length,
    };
  }

  /** How many inputs the federation's reference set holds. */
  async referenceRows(id: string): Promise<number> {
    const view = await this.get(id);
    return (await this.referenceView(view.referenceSet.sha256)).rows;
  }

  /** One chunk of an artifact (access is checked by artifactFor first). */
  async chunk(sha256: string, index: number): Promise<Uint8Array> {
    const data = await this.store.artifacts.chunk(sha256, index);
    if (!data) throw new NotFoundError(`artifact ${sha256} has no chunk ${index}`);
    return data;
  }

  private async referenceView(sha256: string): Promise<ReferenceSetView> {
    const record = await this.store.artifacts.get(sha256);
    if (!record || record.kind !== 'reference-set') {
      throw new RequestInvalidError(
        `invalid federation: referenceSet.sha256 ${sha256} is not a registered reference set`,
      );
    }
    const bytes = await this.artifactBytes(sha256);
    return { ...describeReference('reference set', bytes), sha256, chunks: record.chunkSha256.length };
  }
}
