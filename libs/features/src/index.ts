// Public API of @fedistill/features: feature extractors fixed before any private record is seen
// (a data-independent scattering transform, PCA fitted on the public reference set only), their
// ONNX bytes and digest, and models composed as extractor-then-head.
export {
  buildFeatureExtractor,
  extractFeatures,
  featureSpecOf,
  FEATURES_OUTPUT,
  withFeatures,
  type FeatureExtractor,
  type FeatureSpec,
  type ReferenceRows,
  type ScatteringSpec,
} from './extractor';
export {
  FeatureReferenceError,
  fitPca,
  SUBSPACE_MIN_INPUTS,
  usesSubspace,
  WHITEN_EPS,
  type PcaFit,
  type PcaOptions,
} from './pca';
export { subspaceEigen, type SubspaceEigen } from './subspace-eigen';
export { symmetricEigen, type SymmetricEigen } from './symmetric-eigen';
export * from './scattering';
