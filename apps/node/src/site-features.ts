import * as fs from 'node:fs';
import { type Dataset, parseNpy } from '@fedistill/data';
import {
  buildFeatureExtractor,
  extractFeatures,
  featureSpecOf,
  type FeatureExtractor,
  type FeatureSpec,
} from '@fedistill/features';
import { DeclineReason } from '@fedistill/wire';
import { referenceRows, RoundRefusal } from './announcement-checks';
import type { LocalFederation } from './federation-sync';
import { type FederationSchema, SiteDataError } from './site-data';

/**
 * The coordinator recorded a feature extractor other than the one this site built from the
 * federation's definition and reference set: the site refuses the federation (nothing is trained,
 * answered or charged).
 */
export class FeatureDigestError extends SiteDataError {}

/** A federation's extractor as this site rebuilt it, and the reference set through it. */
export interface SiteFeatures {
  readonly extractor: FeatureExtractor;
  /** Every reference row's features, in reference order: what the teachers answer queries on. */
  readonly reference: Dataset;
}

/** The `features` section of a served definition, or null when it has none. */
function featuresOf(id: string, spec: unknown): { spec: FeatureSpec; sha256: string } | null {
  const f = (spec as { features?: unknown }).features as
    { scattering?: FeatureSpec['scattering']; pca?: FeatureSpec['pca']; sha256?: unknown } | undefined;
  if (f === undefined || f === null) return null;
  if (typeof f !== 'object')
    throw new SiteDataError(`federation '${id}': its definition's features section is not an object`);
  if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))
    throw new FeatureDigestError(
      `federation '${id}': the coordinator recorded no feature extractor digest (features.sha256); refusing the federation`,
    );
  return {
    spec: featureSpecOf(f),
    sha256: f.sha256,
  };
}

/**
 * Rebuilds the federation's feature extractor here, from the approved definition and the
 * reference set this node downloaded and verified, and compares its SHA-256 with the digest the
 * coordinator recorded (features.sha256). The site trusts nothing the coordinator says about the
 * extractor: a mismatch (say, PCA fitted on some site's private records) is a refusal of the
 * federation. Returns null for a federation without features.
 *
 * The reference set's features are computed once here, for every query of every round.
 */
export async function rebuildSiteFeatures(
  local: LocalFederation,
  schema: FederationSchema,
  o: { readonly threads?: number } = {},
): Promise<SiteFeatures | null> {
  const recorded = featuresOf(local.id, local.spec);
  if (!recorded) return null;
  const npy = parseNpy(local.referenceFile, new Uint8Array(fs.readFileSync(local.referenceFile)));
  if (npy.data instanceof BigInt64Array)
    throw new SiteDataError(`${local.referenceFile}: 64-bit integer reference sets are not supported`);
  const count = npy.shape[0] ?? 0;
  // float32 as the coordinator reads it (federation.service.ts referenceDataset), bit for bit.
  const raw: Dataset = {
    features: Float32Array.from(npy.data as ArrayLike<number>),
    labels: new Int32Array(count),
    count,
    featureShape: [...schema.inputShape],
    numClasses: schema.labels.length,
  };
  let extractor: FeatureExtractor;
  try {
    extractor = await buildFeatureExtractor(recorded.spec, schema.inputShape, raw);
  } catch (err) {
    throw new SiteDataError(
      `federation '${local.id}': cannot build its feature extractor: ${(err as Error).message}`,
    );
  }
  if (extractor.sha256 !== recorded.sha256)
    throw new FeatureDigestError(
      `federation '${local.id}': the coordinator recorded feature extractor ${recorded.sha256}, but the extractor ` +
        `rebuilt here from the definition and the reference set is ${extractor.sha256}; refusing the federation`,
    );
  return { extractor, reference: await extractFeatures(extractor, raw, { threads: o.threads }) };
}

/**
 * What the teachers answer a round's queries on: the queried reference rows' features when the
 * federation has an extractor, else the raw rows from the reference NPY.
 */
export function teacherInputs(
  local: LocalFederation,
  site: { readonly schema: FederationSchema; readonly features: SiteFeatures | null },
  indices: readonly number[],
): Float32Array {
  const f = site.features;
  if (!f) return referenceRows(local.referenceFile, indices, site.schema.inputShape);
  const per = f.extractor.outputSize;
  const out = new Float32Array(indices.length * per);
  for (const [i, row] of indices.entries()) {
    if (!Number.isInteger(row) || row < 0 || row >= f.reference.count)
      throw new RoundRefusal(
        DeclineReason.DECLINE_REASON_PARAMETERS_REFUSED,
        `query index ${row} is outside the reference set's ${f.reference.count} rows`,
      );
    out.set(f.reference.features.subarray(row * per, (row + 1) * per), i * per);
  }
  return out;
}
