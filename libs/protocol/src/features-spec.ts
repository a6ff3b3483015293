import { z } from 'zod';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/**
 * A federation's feature extractor (docs/federations.md, "features"): fixed before any private
 * record is seen, used by every site's teachers and by the student. `scattering` is the
 * data-independent scattering transform (libs/features scattering.ts); `pca` is PCA fitted on the
 * public reference set only, after the scattering when both are given. Either costs no privacy
 * (docs/privacy.md, "Features that cost no privacy").
 *
 * `sha256` is the SHA-256 of the extractor's ONNX bytes. The coordinator records it when it
 * creates the federation (an operator who writes it has it checked); every site rebuilds the
 * extractor from this section and the reference set and refuses the federation when its own
 * digest differs.
 */
export const featuresSpecSchema = z
  .object({
    scattering: z
      .object({
        /** J: wavelet scales 2^0 .. 2^(J-1); the output is subsampled by 2^J. */
        scales: positiveInt(8).default(2),
        /** L: orientations per scale. */
        angles: positiveInt(32).default(8),
        order: z.union([z.literal(1), z.literal(2)]).default(2),
      })
      .strict()
      .optional(),
    pca: z
      .object({
        /** Principal components kept; at most the values per input (after scattering) and rows - 1. */
        components: positiveInt(65536),
        /** Scale each component to unit variance on the reference set. */
        whiten: z.boolean().default(false),
        /** Divide each input by its standard deviation on the reference set before the fit. */
        standardize: z.boolean().optional(),
      })
      .strict()
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256')
      .optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (!f.scattering && !f.pca)
      ctx.addIssue({ code: 'custom', path: [], message: 'must name scattering, pca or both' });
  });

/** A validated `features` section. */
export type FeaturesSpec = z.output<typeof featuresSpecSchema>;

/** Cross-field rules of `features` against `input` (one issue per bad field). */
export function featuresIssues(f: {
  input: { shape: number[] };
  student: { architecture: string };
  features?: FeaturesSpec;
}): { path: (string | number)[]; message: string }[] {
  const features = f.features;
  if (!features) return [];
  const shape = f.input.shape;
  const issues: { path: (string | number)[]; message: string }[] = [];
  // The student is a head on the feature vector (withFeatures), which has no image layout.
  if (f.student.architecture !== 'mlp')
    issues.push({
      path: ['student', 'architecture'],
      message: `with features the student is an mlp on the feature vector, not a ${f.student.architecture}`,
    });
  if (features.scattering) {
    const side = Math.min(...shape.slice(-2));
    if (shape.length < 2 || shape.length > 3)
      issues.push({
        path: ['features', 'scattering'],
        message: `needs input.shape [height, width] or [channels, height, width], not [${shape.join(', ')}]`,
      });
    else if (2 ** features.scattering.scales > side)
      issues.push({
        path: ['features', 'scattering', 'scales'],
        message: `2^${features.scattering.scales} is larger than the image side ${side}`,
      });
  } else if (features.pca) {
    const per = shape.reduce((a, b) => a * b, 1);
    if (features.pca.components > per)
      issues.push({
        path: ['features', 'pca', 'components'],
        message: `is ${features.pca.components}; input.shape [${shape.join(', ')}] has only ${per} values`,
      });
  }
  return issues;
}
