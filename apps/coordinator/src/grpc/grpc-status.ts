import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import {
  FederationExistsError,
  isStoreUnavailable,
  SiteAlreadyEnrolledError,
  SiteAlreadyRevokedError,
  UnknownFederationError,
  UnknownSiteError,
} from '@fedistill/store';
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  OutOfRangeError,
  PermissionError,
  RateLimitedError,
  RequestInvalidError,
  RoundClosedError,
  StageNotReadyError,
} from '../domain/errors';
import { WireFieldError } from '@fedistill/protocol';

/** The one place where domain errors become gRPC statuses. */
const TABLE: ReadonlyArray<[new (...args: never[]) => Error, status]> = [
  [RequestInvalidError, status.INVALID_ARGUMENT],
  // A malformed round message (libs/protocol secagg-wire.ts), naming its field.
  [WireFieldError, status.INVALID_ARGUMENT],
  [AuthenticationError, status.UNAUTHENTICATED],
  [PermissionError, status.PERMISSION_DENIED],
  [NotFoundError, status.NOT_FOUND],
  [UnknownSiteError, status.NOT_FOUND],
  [ConflictError, status.ALREADY_EXISTS],
  [SiteAlreadyEnrolledError, status.ALREADY_EXISTS],
  [SiteAlreadyRevokedError, status.FAILED_PRECONDITION],
  [UnknownFederationError, status.NOT_FOUND],
  [FederationExistsError, status.ALREADY_EXISTS],
  [OutOfRangeError, status.OUT_OF_RANGE],
  [StageNotReadyError, status.FAILED_PRECONDITION],
  [RoundClosedError, status.ABORTED],
  [RateLimitedError, status.RESOURCE_EXHAUSTED],
];

/** Maps an error to a ServiceError; unknown errors become INTERNAL with no detail leaked. */
export function toServiceError(err: unknown): { error: Partial<ServiceError>; known: boolean } {
  for (const [type, code] of TABLE) {
    if (err instanceof type)
      return { error: { code, details: err.message, metadata: new Metadata() }, known: true };
  }
  // The database went away (PostgreSQL restarting): transient, and the nodes retry UNAVAILABLE
  // until the stage's deadline. Still logged as unexpected (known: false) for the operator.
  if (isStoreUnavailable(err))
    return {
      error: {
        code: status.UNAVAILABLE,
        details: "the coordinator's database is unavailable; try again",
        metadata: new Metadata(),
      },
      known: false,
    };
  return {
    error: { code: status.INTERNAL, details: 'internal error', metadata: new Metadata() },
    known: false,
  };
}
