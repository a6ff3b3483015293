import { Body, Controller, Inject, Param, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ACCESS_TOKENS } from '../tokens';
import type { AccessTokenService, AccessTokenView, IssuedAccessToken } from './access-token.service';
import { type AdminCaller, callerOf } from './caller';
import { AdminRoute, parseBody } from './route-spec';
import { ADMIN_ROUTES } from './routes';

/** The guard admitted the request, so it has a caller; a missing one is a wiring bug. */
function caller(req: Request): AdminCaller {
  const found = callerOf(req);
  if (!found) throw new Error('admin request without a caller: AdminAuthGuard did not run');
  return found;
}

/** Named access tokens (operator, auditor) and the caller's own identity. */
@Controller()
export class AccessTokenController {
  constructor(@Inject(ACCESS_TOKENS) private readonly tokens: AccessTokenService) {}

  @AdminRoute(ADMIN_ROUTES.whoami)
  whoami(@Req() req: Request): AdminCaller {
    return caller(req);
  }

  @AdminRoute(ADMIN_ROUTES.createAccessToken)
  create(@Req() req: Request, @Body() body: unknown): Promise<IssuedAccessToken> {
    return this.tokens.create(parseBody(ADMIN_ROUTES.createAccessToken, body), caller(req));
  }

  @AdminRoute(ADMIN_ROUTES.listAccessTokens)
  async list(): Promise<{ accessTokens: AccessTokenView[] }> {
    return { accessTokens: await this.tokens.list() };
  }

  @AdminRoute(ADMIN_ROUTES.revokeAccessToken)
  revoke(@Req() req: Request, @Param('name') name: string, @Body() body: unknown): Promise<AccessTokenView> {
    const { reason } = parseBody(ADMIN_ROUTES.revokeAccessToken, body);
    return this.tokens.revoke(name, caller(req), reason);
  }
}
