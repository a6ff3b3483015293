import { Body, Controller, Inject, Param } from '@nestjs/common';
import { parseDuration } from '@fedistill/identity';
import type { EnrolmentService, IssuedToken } from '../domain/enrolment.service';
import { RequestInvalidError } from '../domain/errors';
import type { SiteService, SiteView } from '../domain/site.service';
import { ENROLMENT, SITES } from '../tokens';
import { AdminRoute, parseBody } from './route-spec';
import { ADMIN_ROUTES } from './routes';

/** Sites and their enrolment (bearer token; see routes.ts for who may call what). */
@Controller()
export class AdminController {
  constructor(
    @Inject(ENROLMENT) private readonly enrolment: EnrolmentService,
    @Inject(SITES) private readonly sites: SiteService,
  ) {}

  @AdminRoute(ADMIN_ROUTES.createEnrolmentToken)
  async createToken(@Body() body: unknown): Promise<IssuedToken & { expiresAtIso: string }> {
    const { site, ttl } = parseBody(ADMIN_ROUTES.createEnrolmentToken, body);
    let ttlMs: number | undefined;
    try {
      ttlMs = ttl === undefined ? undefined : parseDuration(ttl);
    } catch (err) {
      throw new RequestInvalidError(`'ttl': ${(err as Error).message}`);
    }
    const issued = await this.enrolment.issueToken(site, ttlMs);
    return { ...issued, expiresAtIso: new Date(issued.expiresAt).toISOString() };
  }

  @AdminRoute(ADMIN_ROUTES.listSites)
  async listSites(): Promise<{ sites: SiteView[] }> {
    return { sites: await this.sites.list() };
  }

  @AdminRoute(ADMIN_ROUTES.revokeSite)
  async revoke(@Param('name') name: string, @Body() body: unknown): Promise<SiteView> {
    const { reason } = parseBody(ADMIN_ROUTES.revokeSite, body);
    return this.sites.revoke(name, reason ?? 'revoked by the operator');
  }
}

/** Liveness for load balancers and scripts; no token. */
@Controller()
export class HealthController {
  @AdminRoute(ADMIN_ROUTES.health)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
