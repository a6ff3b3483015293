export { SITE_NAME_PATTERN, assertSiteName } from './site-name';
export {
  type SiteKeys,
  KeyFileError,
  generateSiteKeys,
  writeSiteKeyFile,
  readSiteKeyFile,
} from './key-files';
export {
  RPC_HEADER,
  type RpcAudience,
  type RpcAuthHeaders,
  rpcSigningBytes,
  signRpc,
  verifyRpcSignature,
  parseRpcAuthHeaders,
} from './rpc-signature';
export {
  generateEnrolmentToken,
  isWellFormedToken,
  hashEnrolmentToken,
  signEnrolmentProof,
  verifyEnrolmentProof,
} from './enrolment-token';
export { parseDuration } from './duration';
export { ed25519Signer, ed25519Verify } from './fast-ed25519';
