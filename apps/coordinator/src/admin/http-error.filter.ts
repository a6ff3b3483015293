import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  FederationExistsError,
  SiteAlreadyEnrolledError,
  SiteAlreadyRevokedError,
  UnknownFederationError,
  UnknownSiteError,
} from '@fedistill/store';
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  PermissionError,
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
];

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
    res.status(status).json({ error: message, status });
  }

  private translate(err: unknown): { status: number; message: string } {
    for (const [type, status] of TABLE) if (err instanceof type) return { status, message: err.message };
    if (err instanceof HttpException) {
      const body = err.getResponse();
      const message =
        typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? err.message);
      return { status: err.getStatus(), message };
    }
    return { status: 500, message: 'internal error' };
  }
}
