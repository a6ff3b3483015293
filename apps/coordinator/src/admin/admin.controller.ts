import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { parseDuration } from '@fedistill/identity';
import type { EnrolmentService, IssuedToken } from '../domain/enrolment.service';
import { RequestInvalidError } from '../domain/errors';
import type { SiteService, SiteView } from '../domain/site.service';
import { ENROLMENT, SITES } from '../tokens';
import { OperatorTokenGuard } from './operator-token.guard';

const tokenBody = z.object({ site: z.string(), ttl: z.string().optional() }).strict();
const revokeBody = z.object({ reason: z.string().max(512).optional() }).strict();

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `'${issue.path.join('.')}'` : 'body';
    throw new RequestInvalidError(`${where}: ${issue?.message ?? 'invalid request body'}`);
  }
  return parsed.data;
}

/** The operator's HTTP API (bearer token). JSON in and out; errors as {error, status}. */
@Controller('api/v1')
@UseGuards(OperatorTokenGuard)
export class AdminController {
  constructor(
    @Inject(ENROLMENT) private readonly enrolment: EnrolmentService,
    @Inject(SITES) private readonly sites: SiteService,
  ) {}

  @Post('enrolment-tokens')
  @HttpCode(201)
  async createToken(@Body() body: unknown): Promise<IssuedToken & { expiresAtIso: string }> {
    const { site, ttl } = parseBody(tokenBody, body);
    let ttlMs: number | undefined;
    try {
      ttlMs = ttl === undefined ? undefined : parseDuration(ttl);
    } catch (err) {
      throw new RequestInvalidError(`'ttl': ${(err as Error).message}`);
    }
    const issued = await this.enrolment.issueToken(site, ttlMs);
    return { ...issued, expiresAtIso: new Date(issued.expiresAt).toISOString() };
  }

  @Get('sites')
  async listSites(): Promise<{ sites: SiteView[] }> {
    return { sites: await this.sites.list() };
  }

  @Post('sites/:name/revoke')
  @HttpCode(200)
  async revoke(@Param('name') name: string, @Body() body: unknown): Promise<SiteView> {
    const { reason } = parseBody(revokeBody, body);
    return this.sites.revoke(name, reason ?? 'revoked by the operator');
  }
}

/** Liveness for load balancers and scripts; no token. */
@Controller()
export class HealthController {
  @Get('healthz')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
