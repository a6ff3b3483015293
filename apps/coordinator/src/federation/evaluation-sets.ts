import { createHash } from 'node:crypto';
import { type Dataset, parseNpy } from '@fedistill/data';
import type { CoordinatorStore, EvaluationSetRecord } from '@fedistill/store';
import { NotFoundError, RequestInvalidError } from '../domain/errors';
import type { Transcript } from '../domain/transcript';
import { ARTIFACT_CHUNK_BYTES, type FederationService } from './federation.service';

/** What the operator sees of a registered evaluation set. */
export interface EvaluationSetView {
  readonly federationId: string;
  readonly inputsSha256: string;
  readonly labelsSha256: string;
  readonly rows: number;
  readonly registeredAt: string;
}

/** An evaluation set loaded for measuring a student. */
export interface LoadedEvaluationSet {
  readonly record: EvaluationSetRecord;
  readonly data: Dataset;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Parses and checks inputs [rows, ...inputShape] (floats) and labels [rows] (integer classes). */
export function parseEvaluationSet(
  inputs: Uint8Array,
  labels: Uint8Array,
  inputShape: readonly number[],
  classes: number,
): Dataset {
  const parse = (what: string, bytes: Uint8Array) => {
    try {
      // A plain Uint8Array view: a Buffer's slice() shares memory, which parseNpy does not expect.
      return parseNpy(what, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (err) {
      throw new RequestInvalidError(`evaluation set: ${(err as Error).message}`);
    }
  };
  const x = parse('inputs', inputs);
  const y = parse('labels', labels);
  if (!(x.data instanceof Float32Array) && !(x.data instanceof Float64Array))
    throw new RequestInvalidError('evaluation set: inputs must be float32 or float64');
  const rows = x.shape[0] ?? 0;
  if (x.shape.slice(1).join('x') !== inputShape.join('x') || rows < 1) {
    throw new RequestInvalidError(
      `evaluation set: inputs have shape [${x.shape.join(', ')}]; the federation needs [rows >= 1, ${inputShape.join(', ')}]`,
    );
  }
  if (!(y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1)) || y.shape[0] !== rows) {
    throw new RequestInvalidError(
      `evaluation set: labels have shape [${y.shape.join(', ')}]; expected [${rows}] (one class index per input)`,
    );
  }
  if (y.data instanceof Float32Array || y.data instanceof Float64Array)
    throw new RequestInvalidError('evaluation set: labels must be integers (class indices), not floats');
  const values = y.data instanceof BigInt64Array ? Array.from(y.data, Number) : Array.from(y.data);
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= classes);
  if (bad >= 0)
    throw new RequestInvalidError(
      `evaluation set: label ${values[bad]} of row ${bad} is not a class index in [0, ${classes})`,
    );
  const features = Float32Array.from(x.data);
  // A NaN or an infinity (a float64 beyond float32 too) would make every accuracy meaningless.
  const nonFinite = features.findIndex((v) => !Number.isFinite(v));
  if (nonFinite >= 0) {
    const per = features.length / rows;
    throw new RequestInvalidError(
      `evaluation set: input value ${x.data[nonFinite]} of row ${Math.floor(nonFinite / per)} is not a finite float32`,
    );
  }
  return {
    features,
    labels: Int32Array.from(values),
    count: rows,
    featureShape: [...inputShape],
    numClasses: classes,
  };
}

/**
 * A federation's labelled evaluation set: the coordinator measures each published student on it.
 * Its artifacts have kind 'evaluation-set' and no federation refers to them, so the Artifacts
 * service (which serves only a federation's reference set and students) never hands them out.
 */
export class EvaluationSets {
  constructor(
    private readonly store: CoordinatorStore,
    private readonly federations: FederationService,
    private readonly transcript: Transcript,
    private readonly now: () => number = Date.now,
  ) {}

  /** Validates both files against the federation, then stores them; nothing is stored on bad input. */
  async register(federationId: string, inputs: Uint8Array, labels: Uint8Array): Promise<EvaluationSetView> {
    const federation = await this.federations.get(federationId);
    const data = parseEvaluationSet(inputs, labels, federation.input.shape, federation.labels.length);
    if (sha256(inputs) === federation.referenceSet.sha256)
      throw new RequestInvalidError(
        'evaluation set: its inputs are the reference set itself; use held-out labelled data',
      );
    const at = this.now();
    const x = await this.store.artifacts.put('evaluation-set', inputs, ARTIFACT_CHUNK_BYTES, at);
    const y = await this.store.artifacts.put('evaluation-set', labels, ARTIFACT_CHUNK_BYTES, at);
    const record = {
      federationId,
      inputsSha256: x.sha256,
      labelsSha256: y.sha256,
      rows: data.count,
      createdAt: at,
    };
    await this.store.evaluationSets.put(record);
    await this.transcript.append({
      event: 'admin',
      federation: federationId,
      detail: `evaluation set registered: inputs sha256 ${x.sha256}, labels sha256 ${y.sha256}, ${data.count} rows`,
    });
    return viewOf(record);
  }

  async show(federationId: string): Promise<EvaluationSetView> {
    await this.federations.get(federationId);
    const record = await this.store.evaluationSets.get(federationId);
    if (!record) throw new NotFoundError(`federation '${federationId}' has no evaluation set`);
    return viewOf(record);
  }

  /** The federation's evaluation set, parsed, or null when none is registered. */
  async load(federationId: string): Promise<LoadedEvaluationSet | null> {
    const record = await this.store.evaluationSets.get(federationId);
    if (!record) return null;
    const federation = await this.federations.get(federationId);
    const data = parseEvaluationSet(
      await this.federations.artifactBytes(record.inputsSha256),
      await this.federations.artifactBytes(record.labelsSha256),
      federation.input.shape,
      federation.labels.length,
    );
    return { record, data };
  }
}

const viewOf = (r: EvaluationSetRecord): EvaluationSetView => ({
  federationId: r.federationId,
  inputsSha256: r.inputsSha256,
  labelsSha256: r.labelsSha256,
  rows: r.rows,
  registeredAt: new Date(r.createdAt).toISOString(),
});
