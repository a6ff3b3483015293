export { initNode, type InitNodeOptions } from './init-node';
export { enrollNode, readEnrolment, type EnrolmentRecord } from './enroll-node';
export { startNode, type RunningNode, NODE_VERSION } from './start-node';
export { NodeEgress, EgressRefusedError, type WireMethod } from './egress';
export { loadNodeConfig, NodeConfigError, NODE_FILES, type NodeConfig } from './node-config';
export { RoundParticipant, configFromAnnouncement, type ParticipationHooks } from './round-participant';
export { approveFederation, RosterApprovalError, type RosterProposal } from './approve-federation';
export {
  readApprovedRosters,
  rosterFingerprint,
  keyFingerprint,
  normalizeFingerprint,
  RosterFileError,
  APPROVALS_FILE,
  type ApprovedRoster,
} from './approved-roster';
export { recordReceived } from './received-log';
export { SiteLedger } from './site-ledger';
export { chargesInLog, readNodeLog, rebuildCommand, uncoveredCharges } from './ledger-log';
export { rebuildLedger } from './ledger-rebuild';
export { CoordinatorHeadWatch, describeAlarm } from './coordinator-head-watch';
export { openNodeAudit } from './node-audit';
export { siteKeyFile, CREDENTIALS_DIRECTORY_ENV } from './site-key-file';
export { runNodeDoctor, type NodeDoctorOptions } from './doctor/run-doctor';
export {
  daysUntil,
  type DoctorCheck,
  type DoctorStatus,
  EXPIRY_WARNING_DAYS,
  failed,
  passed,
  warned,
} from './doctor/doctor-check';
export { PROBED_PROVIDERS, type ProbedProvider } from './doctor/provider-check';
export { checkSiteFiles } from './site-check';
