import { type Dataset, encodeNpy } from '@fedistill/data';
import type { CoordinatorStore } from '@fedistill/store';
import { RequestInvalidError } from '../../../apps/coordinator/src/domain/errors';
import type { NodeEventHub } from '../../../apps/coordinator/src/domain/node-event-hub';
import type { Transcript } from '../../../apps/coordinator/src/domain/transcript';
import { parseEvaluationSet } from '../../../apps/coordinator/src/federation/evaluation-sets';
import {
  FederationService,
  type ReferenceSetView,
} from '../../../apps/coordinator/src/federation/federation.service';
import { fuzzBytes } from '../support/mutators';
import { type FuzzSurface, hexOf, refusedWith } from '../support/surface';
import { datasetProblem, npyBytes } from './data-files';

/**
 * The NPY files an operator registers with the coordinator: a federation's reference set
 * (FederationService.registerReferenceSet, the admin route's handler) and an evaluation set
 * (parseEvaluationSet). Refusals are RequestInvalidError, which the admin API answers as 400.
 */

const SHAPE = [4];
const CLASSES = 3;
const f32 = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(i));

const REFERENCES: readonly Uint8Array[] = [
  encodeNpy([5, 4], f32(20)),
  encodeNpy([3, 1, 2, 2], f32(12)),
  npyBytes('<f8', [2, 4], new Uint8Array(Float64Array.from(f32(8)).buffer)),
];
const INPUTS: readonly Uint8Array[] = [
  encodeNpy([5, 4], f32(20)),
  npyBytes('<f8', [2, 4], new Uint8Array(Float64Array.from(f32(8)).buffer), 2),
];
const LABELS: readonly Uint8Array[] = [
  encodeNpy([5], Int32Array.from([0, 1, 2, 1, 0])),
  npyBytes('<i8', [2, 1], new Uint8Array(BigInt64Array.from([2n, 0n]).buffer)),
  npyBytes('|u1', [5], Uint8Array.from([2, 2, 1, 0, 0])),
];

/** A FederationService whose store keeps nothing: registration's checks come first. */
function referenceRegistry(): FederationService {
  const store = {
    artifacts: {
      put: (_kind: string, bytes: Uint8Array) =>
        Promise.resolve({
          sha256: 'ab'.repeat(32),
          totalBytes: bytes.length,
          chunkSha256: ['cd'.repeat(32)],
        }),
    },
  } as unknown as CoordinatorStore;
  const transcript = { append: () => Promise.resolve() } as unknown as Transcript;
  return new FederationService(store, transcript, {} as NodeEventHub);
}

const registry = referenceRegistry();

export const referenceSetSurface: FuzzSurface<Uint8Array, ReferenceSetView> = {
  name: 'reference set',
  generate: (rng) => fuzzBytes(rng, REFERENCES),
  feed: (bytes) => registry.registerReferenceSet(bytes),
  validate: (v) =>
    Number.isSafeInteger(v.rows) &&
    v.rows >= 1 &&
    v.sampleShape.every((d) => Number.isSafeInteger(d) && d >= 1)
      ? undefined
      : `rows ${v.rows}, sample shape [${v.sampleShape.join(', ')}]`,
  refusal: refusedWith(RequestInvalidError),
  show: hexOf,
};

interface EvaluationCase {
  readonly inputs: Uint8Array;
  readonly labels: Uint8Array;
}

export const evaluationSetSurface: FuzzSurface<EvaluationCase, Dataset> = {
  name: 'evaluation set',
  generate: (rng) => {
    const which = rng.below(3);
    return {
      inputs: which === 1 ? INPUTS[0]! : fuzzBytes(rng, INPUTS),
      labels: which === 0 ? LABELS[0]! : fuzzBytes(rng, LABELS),
    };
  },
  feed: (c) => parseEvaluationSet(c.inputs, c.labels, SHAPE, CLASSES),
  validate: (d) => datasetProblem(d),
  refusal: refusedWith(RequestInvalidError),
  show: (c) => `inputs=${hexOf(c.inputs)} labels=${hexOf(c.labels)}`,
};

export const referenceSurfaces = [referenceSetSurface, evaluationSetSurface];
