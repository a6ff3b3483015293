import * as fs from 'node:fs';
import { parseNpy } from '@fedistill/data';
import type { AbstentionGates, TeacherEnsemble } from '@fedistill/distill';
import type { LocalFederation } from './federation-sync';
import type { NodeConfig } from './node-config';
import type { FederationSchema } from './site-data';
import type { SiteFeatures } from './site-features';

/**
 * The site's abstention gates (node.yaml teachers.abstain; libs/distill abstention.ts), or null
 * when its teachers answer every query. Each teacher's gate is fitted on its own partition and
 * the federation's PUBLIC reference set, both in the space the teachers answer in (the raw
 * reference inputs, or their features through the federation's extractor), so abstaining
 * changes no sensitivity and costs no privacy (docs/privacy.md).
 */
export function siteAbstention(
  config: NodeConfig,
  local: LocalFederation,
  schema: FederationSchema,
  features: SiteFeatures | null,
  teachers: TeacherEnsemble,
): AbstentionGates | null {
  if (!config.teachers.abstain || config.teachers.onnx) return null;
  if (features) return teachers.abstentionGates(features.reference.features, features.reference.count);
  const file = local.referenceFile;
  const npy = parseNpy(file, new Uint8Array(fs.readFileSync(file)));
  if (npy.data instanceof BigInt64Array)
    throw new RangeError(`${file}: 64-bit integer reference sets are not supported`);
  const per = schema.inputShape.reduce((a, b) => a * b, 1);
  const n = npy.shape[0] ?? 0;
  if (npy.data.length !== n * per)
    throw new RangeError(`${file}: ${npy.data.length} values are not ${n} inputs of ${per}`);
  return teachers.abstentionGates(Float32Array.from(npy.data as ArrayLike<number>), n);
}
