import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { AuthenticationError, PermissionError } from '../domain/errors';
import { ACCESS_TOKENS, AUTH_LIMITER, CONFIG, MUTATION_RECORDER } from '../tokens';
import type { AccessTokenService } from './access-token.service';
import type { AuthFailureLimiter } from './auth-failure-limiter';
import { type AdminCaller, attachCaller, BOOTSTRAP_OPERATOR, callerOf } from './caller';
import type { MutationRecorder } from './mutation-recorder';
import type { AdminRouteSpec } from './route-spec';
import { findAdminRoute } from './routes';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The admin API's one access check (an application-wide guard, so no route can miss it): the
 * route's registry entry (routes.ts, found by method and path pattern) says who may call it; a
 * route without one is refused (fail closed).
 * Admits the configured operator token (the bootstrap operator) or a named access token, attaches
 * the caller to the request, refuses auditors on mutating routes, and rate-limits failures per
 * client address.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly operatorDigest: Buffer;

  constructor(
    @Inject(CONFIG) config: CoordinatorConfig,
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokenService,
    @Inject(AUTH_LIMITER) private readonly limiter: AuthFailureLimiter,
    @Inject(MUTATION_RECORDER) private readonly recorder: MutationRecorder,
  ) {
    this.operatorDigest = digest(config.admin.operatorToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    // The pattern Express matched (/api/v1/federations/:id), not the concrete path.
    const pattern = (req.route as { path?: unknown } | undefined)?.path;
    // Express answers HEAD with the GET handler: the same route, the same access.
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = typeof pattern === 'string' ? findAdminRoute(method, pattern) : undefined;
    if (!route)
      // A programming error, not the caller's: 500, logged with the stack by the filter.
      throw new Error(
        `${req.method} ${String(pattern)} is not declared in the admin route registry (apps/coordinator/src/admin/routes.ts)`,
      );
    if (route.access === 'public') return true;
    // Already admitted by this guard (a controller may name it again, as the former
    // OperatorTokenGuard): the role check below still applies, nothing is counted twice.
    const admitted = callerOf(req);
    if (admitted) return this.authorize(req, admitted, route);
    const address = req.socket.remoteAddress ?? 'unknown';
    this.limiter.check(address);
    let caller: AdminCaller;
    try {
      caller = await this.authenticate(req.headers.authorization);
    } catch (err) {
      this.limiter.fail(address);
      throw err;
    }
    attachCaller(req, caller, route);
    return this.authorize(req, caller, route);
  }

  private async authorize(req: Request, caller: AdminCaller, route: AdminRouteSpec): Promise<true> {
    if (route.access === 'mutate' && caller.role !== 'operator') {
      await this.recorder.record(req, caller, route, 403);
      throw new PermissionError(
        `role '${caller.role}' is read-only: ${route.method} ${route.path} (${route.operationId}) changes the coordinator; use an operator token`,
      );
    }
    return true;
  }

  private async authenticate(header: string | undefined): Promise<AdminCaller> {
    if (!header)
      throw new AuthenticationError('missing Authorization header: send "Authorization: Bearer <token>"');
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match?.[1]) throw new AuthenticationError('Authorization header must be "Bearer <token>"');
    if (timingSafeEqual(digest(match[1]), this.operatorDigest))
      return { name: BOOTSTRAP_OPERATOR, role: 'operator', expiresAt: null };
    const found = await this.tokens.authenticate(match[1]);
    if (!found.ok)
      throw new AuthenticationError(
        found.reason === 'unknown access token'
          ? 'wrong operator token or unknown access token'
          : found.reason,
      );
    return found.caller;
  }
}
