import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  AccessTokenAlreadyRevokedError,
  AccessTokenExistsError,
  FederationExistsError,
  SiteAlreadyEnrolledError,
  SiteAlreadyRevokedError,
  UnknownAccessTokenError,
  UnknownFederationError,
  UnknownSiteError,
} from '@fedistill/store';
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  PermissionError,
  RateLimitedError,
  RequestInvalidError,
} from '../domain/errors';
import { LOGGER } from '../tokens';

/** The one place where domain errors become HTTP statuses for the admin API. */
const TABLE: ReadonlyArray<[new (...args: never[]) => Error, number]> = [
  [RequestInvalidError, 400],
  [AuthenticationError, 401],
  [PermissionError, 403],
  [NotFoundError, 404],
  [UnknownSiteError, 404],
  [ConflictError, 409],
  [SiteAlreadyEnrolledError, 409],
  [SiteAlreadyRevokedError, 409],
  [UnknownFederationError, 404],
  [FederationExistsError, 409],
  [UnknownAccessTokenError, 404],
  [AccessTokenExistsError, 409],
  [AccessTokenAlreadyRevokedError, 409],
  [RateLimitedError, 429],
];

/** Express's body parsers fail with errors that carry their status (413 too large, 400 bad JSON...). */
function bodyParserStatus(err: unknown): number | undefined {
  const e = err as { type?: unknown; status?: unknown };
  return typeof e?.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500
    ? e.status
    : undefined;
}

/** The HTTP status the filter answers `err` with. */
export function httpStatusOf(err: unknown): number {
  for (const [type, status] of TABLE) if (err instanceof type) return status;
  const parserStatus = bodyParserStatus(err);
  if (parserStatus !== undefined) return parserStatus;
  if (err instanceof HttpException) return err.getStatus();
  return 500;
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly log: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { status, message } = this.translate(err);
    const context = { method: req.method, path: req.path, status, reason: message };
    if (status >= 500) this.log.error({ ...context, err }, 'admin request failed with an unexpected error');
    else this.log.warn(context, 'admin request refused');
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="fedistill-admin"');
    const retryAfter = (err as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    res.status(status).json({ error: message, status });
  }

  private translate(err: unknown): { status: number; message: string } {
    for (const [type, status] of TABLE) if (err instanceof type) return { status, message: err.message };
    const parserStatus = bodyParserStatus(err);
    if (parserStatus !== undefined)
      return {
        status: parserStatus,
        message:
          parserStatus === 413
            ? `request body is larger than the limit (${String((err as { limit?: unknown }).limit)} bytes)`
            : `request body: ${(err as Error).message}`,
      };
    if (err instanceof HttpException) {
      const body = err.getResponse();
      const message =
        typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? err.message);
      return { status: err.getStatus(), message };
    }
    return { status: 500, message: 'internal error' };
  }
}
