import { createHash } from 'node:crypto';
import type { Dataset } from '@fedistill/data';
import {
  add,
  emitModel,
  type ExecutionProvider,
  flatten,
  type ForwardContext,
  Graph,
  matmul,
  type ModelDefinition,
  Predictor,
  type Tensor,
} from '@fedistill/engine';
import { fitPca, FeatureReferenceError, type PcaFit, type PcaOptions } from './pca';
import { scattering, type ScatteringOptions } from './scattering';

/** The scattering transform's settings as a federation names them (scattering.ts). */
export type ScatteringSpec = ScatteringOptions;

/**
 * A federation's feature extractor (the `features` section of its definition): a scattering
 * transform, PCA fitted on the public reference set, or scattering followed by PCA.
 */
export interface FeatureSpec {
  readonly scattering?: ScatteringSpec;
  readonly pca?: PcaOptions;
}

/**
 * The extractor's part of a federation's `features` section: its scattering and PCA settings
 * without the recorded digest or anything else, so that the coordinator, every site and the
 * simulator build from exactly the same spec.
 */
export function featureSpecOf(f: {
  readonly scattering?: ScatteringSpec;
  readonly pca?: PcaOptions;
}): FeatureSpec {
  return { ...(f.scattering ? { scattering: f.scattering } : {}), ...(f.pca ? { pca: f.pca } : {}) };
}

/**
 * A built extractor: a graph of constants only (no parameters), its ONNX bytes and their SHA-256.
 * Input [N, ...inputShape], output `features` [N, outputSize].
 */
export interface FeatureExtractor {
  readonly spec: FeatureSpec;
  readonly inputShape: readonly number[];
  readonly definition: ModelDefinition;
  readonly bytes: Uint8Array;
  /** Lower-case hex SHA-256 of `bytes`: what a site compares with the coordinator's record. */
  readonly sha256: string;
  readonly outputSize: number;
}

/** Name of the exported extractor's output. */
export const FEATURES_OUTPUT = 'features';

/** Rows the reference set (or any data) is run through ONNX Runtime at a time. */
const DEFAULT_BATCH = 1024;

/** The reference inputs an extractor is fitted on: `count` rows of prod(inputShape) values. */
export interface ReferenceRows {
  readonly features: Float32Array;
  readonly count: number;
}

/**
 * Builds the federation's extractor from its spec and the PUBLIC reference set alone: the
 * signature takes no site data, so what it returns cannot depend on a private record. It is a
 * deterministic function of (spec, inputShape, reference): PCA is fitted in float64 with
 * operations IEEE-754 rounds correctly (pca.ts), so every site that rebuilds it gets the same
 * bytes and can compare their SHA-256 with what the coordinator recorded.
 *
 * With scattering before PCA, the reference rows are scattered by ONNX Runtime on one CPU thread
 * first: a site whose CPU computes those float32 values differently gets another digest and
 * refuses the federation (fails closed; docs/threat-model.md).
 */
export async function buildFeatureExtractor(
  spec: FeatureSpec,
  inputShape: readonly number[],
  reference: ReferenceRows,
): Promise<FeatureExtractor> {
  checkSpec(spec, inputShape);
  const base = spec.scattering ? scattering(spec.scattering, inputShape) : flattened(inputShape);
  let definition = base;
  if (spec.pca) {
    const per = inputShape.reduce((a, b) => a * b, 1);
    if (reference.count < 1)
      throw new FeatureReferenceError('the reference set is empty: PCA needs rows to fit');
    if (reference.features.length !== reference.count * per)
      throw new RangeError(
        `'reference' must hold count * ${per} values (count = ${reference.count}), got ${reference.features.length}`,
      );
    const rows = spec.scattering ? await runOnCpu(base, reference) : reference.features;
    definition = pcaModel(base, fitPca(rows, reference.count, base.outputSize, spec.pca));
  }
  const bytes = exportExtractor(definition);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { spec, inputShape: [...inputShape], definition, bytes, sha256, outputSize: definition.outputSize };
}

/**
 * `dataset` through the extractor (labels kept): a Dataset of [outputSize] features. Runs the
 * extractor's ONNX bytes in ONNX Runtime, `batchSize` rows at a time.
 */
export async function extractFeatures(
  extractor: FeatureExtractor,
  dataset: Dataset,
  o: { readonly batchSize?: number; readonly threads?: number; readonly provider?: ExecutionProvider } = {},
): Promise<Dataset> {
  const shape = extractor.inputShape;
  if (dataset.featureShape.join('x') !== shape.join('x'))
    throw new RangeError(
      `'dataset' has records of shape [${dataset.featureShape.join(', ')}]; the extractor takes [${shape.join(', ')}]`,
    );
  const features = await runRows(extractor.bytes, shape, extractor.outputSize, dataset, o);
  return {
    features,
    labels: dataset.labels,
    count: dataset.count,
    featureShape: [extractor.outputSize],
    numClasses: dataset.numClasses,
  };
}

/**
 * `head` (a model on the extractor's [outputSize] features) with the extractor in front: the
 * composed model takes raw inputs, so an exported student needs nothing else to run. The
 * extractor adds constants only; the parameters and buffers are the head's.
 */
export function withFeatures(extractor: FeatureExtractor, head: ModelDefinition): ModelDefinition {
  const per = head.inputShape.reduce((a, b) => a * b, 1);
  if (head.inputShape.length !== 1 || per !== extractor.outputSize)
    throw new RangeError(
      `'head' takes [${head.inputShape.join(', ')}]; the extractor gives [${extractor.outputSize}]`,
    );
  return {
    inputShape: extractor.inputShape,
    outputSize: head.outputSize,
    parameters: head.parameters,
    buffers: head.buffers,
    forward: (ctx, x) => head.forward(ctx, extractor.definition.forward(ctx, x)),
  };
}

function checkSpec(spec: FeatureSpec, inputShape: readonly number[]): void {
  if (!spec.scattering && !spec.pca) throw new RangeError("'features' must name scattering, pca or both");
  if (inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d < 1))
    throw new RangeError(`'inputShape' must be positive integers, got [${inputShape.join(', ')}]`);
}

/** The identity on [N, ...shape] rows, flattened to [N, prod(shape)]. */
function flattened(inputShape: readonly number[]): ModelDefinition {
  return {
    inputShape,
    outputSize: inputShape.reduce((a, b) => a * b, 1),
    parameters: [],
    buffers: [],
    forward: (_ctx, x) => (inputShape.length === 1 ? x : flatten(x)),
  };
}

/** `base` then (y - mean) W as MatMul + Add with bias -mean W (both float32 constants, fitted in float64). */
function pcaModel(base: ModelDefinition, fit: PcaFit): ModelDefinition {
  const { inputSize: d, components: k } = fit;
  const weight = Float32Array.from(fit.projection);
  const bias = new Float32Array(k);
  for (let c = 0; c < k; c += 1) {
    let b = 0;
    for (let j = 0; j < d; j += 1) b -= fit.mean[j]! * fit.projection[j * k + c]!;
    bias[c] = b;
  }
  return {
    inputShape: base.inputShape,
    outputSize: k,
    parameters: [],
    buffers: [],
    forward: (ctx, x: Tensor) => {
      const y = base.forward(ctx, x);
      return add(matmul(y, x.graph.constant(weight, [d, k])), x.graph.constant(bias, [k]));
    },
  };
}

/** The extractor never reads parameters, buffers or seeds: it is constants only. */
const CONSTANTS_ONLY: ForwardContext = {
  training: false,
  param: (name) => {
    throw new TypeError(`a feature extractor has no parameters (asked for '${name}')`);
  },
  buffer: (name) => {
    throw new TypeError(`a feature extractor has no buffers (asked for '${name}')`);
  },
  setBuffer: () => {
    throw new TypeError('a feature extractor has no buffers');
  },
  nextSeed: () => 0,
};

/** ONNX bytes of a constants-only model: input `input` [N, ...inputShape], output `features`. */
function exportExtractor(definition: ModelDefinition): Uint8Array {
  if (definition.parameters.length > 0 || definition.buffers.length > 0)
    throw new TypeError('a feature extractor must have no parameters or buffers');
  const g = new Graph();
  const x = g.input('input', 'float32', [null, ...definition.inputShape]);
  g.output(FEATURES_OUTPUT, definition.forward(CONSTANTS_ONLY, x));
  return emitModel(g, { mode: 'inference', paramValues: new Map() }, 'fedistill-features');
}

/** `base`'s outputs for the reference rows on one CPU thread (the fit's input, as every site computes it). */
function runOnCpu(base: ModelDefinition, reference: ReferenceRows): Promise<Float32Array> {
  return runRows(exportExtractor(base), base.inputShape, base.outputSize, reference, {
    threads: 1,
    provider: 'cpu',
  });
}

async function runRows(
  bytes: Uint8Array,
  inputShape: readonly number[],
  outputSize: number,
  rows: ReferenceRows,
  o: { readonly batchSize?: number; readonly threads?: number; readonly provider?: ExecutionProvider },
): Promise<Float32Array> {
  const batch = o.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batch) || batch < 1)
    throw new RangeError(`'batchSize' must be an integer >= 1, got ${batch}`);
  const per = inputShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(rows.count * outputSize);
  if (rows.count === 0) return out;
  const predictor = await Predictor.create(bytes, inputShape, {
    output: FEATURES_OUTPUT,
    threads: o.threads ?? 1,
    provider: o.provider ?? 'cpu',
  });
  try {
    for (let start = 0; start < rows.count; start += batch) {
      const n = Math.min(batch, rows.count - start);
      const y = await predictor.outputs(rows.features.subarray(start * per, (start + n) * per), n);
      out.set(y, start * outputSize);
    }
  } finally {
    await predictor.dispose();
  }
  return out;
}
