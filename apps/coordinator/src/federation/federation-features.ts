import type { Dataset } from '@fedistill/data';
import {
  buildFeatureExtractor,
  FeatureReferenceError,
  type FeatureExtractor,
  featureSpecOf,
} from '@fedistill/features';
import type { FederationSpec } from '@fedistill/protocol';
import { RequestInvalidError } from '../domain/errors';

/**
 * The federation's feature extractor, built from its definition and its PUBLIC reference set
 * alone (libs/features buildFeatureExtractor takes no site data), or null without `features`.
 * What the definition cannot be built into (PCA components past the reference set's rank, a
 * non-finite reference value) is refused as an invalid request naming the field.
 */
export async function buildFederationExtractor(
  spec: FederationSpec,
  reference: Dataset,
): Promise<FeatureExtractor | null> {
  const f = spec.features;
  if (!f) return null;
  try {
    return await buildFeatureExtractor(featureSpecOf(f), spec.input.shape, reference);
  } catch (err) {
    if (err instanceof RangeError || err instanceof FeatureReferenceError)
      throw new RequestInvalidError(`invalid federation: features: ${err.message}`);
    throw err;
  }
}

/**
 * The definition with the extractor's digest recorded in `features.sha256` (what every member
 * site rebuilds and compares). A digest the operator wrote must be the one built here.
 */
export function recordDigest(spec: FederationSpec, extractor: FeatureExtractor | null): FederationSpec {
  if (!spec.features || !extractor) return spec;
  const given = spec.features.sha256;
  if (given !== undefined && given !== extractor.sha256)
    throw new RequestInvalidError(
      `invalid federation: features.sha256 ${given} is not the extractor built from this definition and reference set (${extractor.sha256})`,
    );
  return { ...spec, features: { ...spec.features, sha256: extractor.sha256 } };
}
