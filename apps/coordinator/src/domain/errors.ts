/**
 * Domain errors of the coordinator. They are translated at exactly two borders:
 * grpc/grpc-status.ts (gRPC status codes) and admin/http-error.filter.ts (HTTP statuses).
 */
export class RequestInvalidError extends Error {
  override readonly name = 'RequestInvalidError';
}

/** The caller is not who it claims, or proves nothing (bad signature, unknown site, replay...). */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

/** The caller is known but not allowed (a revoked site, a token for another site). */
export class PermissionError extends Error {
  override readonly name = 'PermissionError';
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** An index or position past the end (a chunk past the last one). */
export class OutOfRangeError extends Error {
  override readonly name = 'OutOfRangeError';
}

/** The round is not at the stage this request needs yet (the caller should retry later). */
export class StageNotReadyError extends Error {
  override readonly name = 'StageNotReadyError';
}

/** The round ended (abandoned or completed) before the stage this request needs: retrying cannot help. */
export class RoundClosedError extends Error {
  override readonly name = 'RoundClosedError';
}

/** The caller is asking too often; it should back off and retry later. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
}
