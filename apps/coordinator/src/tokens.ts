/** NestJS injection tokens: the app wires plain library and domain classes through factories. */
export const CONFIG = Symbol('CoordinatorConfig');
export const LOGGER = Symbol('Logger');
export const STORE = Symbol('CoordinatorStore');
export const EVENT_HUB = Symbol('NodeEventHub');
export const ENROLMENT = Symbol('EnrolmentService');
export const SITES = Symbol('SiteService');
export const GRPC_HOST = Symbol('GrpcServerHost');
export const IDENTITY = Symbol('CoordinatorIdentity');
export const AUDIT_STORE = Symbol('AuditLogStore');
export const TRANSCRIPT = Symbol('Transcript');
export const FEDERATIONS = Symbol('FederationService');
export const ROUNDS = Symbol('RoundEngine');
export const EVALUATION_SETS = Symbol('EvaluationSets');
export const STUDENT_PUBLISHER = Symbol('StudentPublisher');
export const STUDENT_CATALOG = Symbol('StudentCatalog');
