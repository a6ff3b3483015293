export {
  type DevelopmentPkiOptions,
  type DevelopmentPki,
  createDevelopmentPki,
  writeDevelopmentPki,
  describeCertificate,
  PKI_FILES,
} from './development-pki';
