import { Controller, Inject, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { type AuditLogStore, buildAuditReport, renderAuditReport, verifyAuditLog } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import type { CoordinatorStore } from '@fedistill/store';
import { AdminRoute } from '../admin/route-spec';
import { ADMIN_ROUTES } from '../admin/routes';
import { RequestInvalidError } from '../domain/errors';
import type { SiteService } from '../domain/site.service';
import type { FederationService } from '../federation/federation.service';
import { AUDIT_STORE, FEDERATIONS, IDENTITY, SITES, STORE } from '../tokens';
import { type PrivacyBySite, privacyBySite } from './privacy-by-site';
import { type TranscriptStatus, transcriptStatus } from './transcript-status';

const REPORT_TYPES = {
  html: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  json: 'application/json',
} as const;

/**
 * Read routes the dashboard needs beyond the admin API's own: epsilon per site over rounds, and
 * the transcript's verification. Read-only: any valid token (AdminAuthGuard, routes.ts).
 */
@Controller()
export class ConsoleReadController {
  constructor(
    @Inject(STORE) private readonly store: CoordinatorStore,
    @Inject(FEDERATIONS) private readonly federations: FederationService,
    @Inject(SITES) private readonly sites: SiteService,
    @Inject(AUDIT_STORE) private readonly audit: AuditLogStore,
    @Inject(IDENTITY) private readonly identity: SiteKeys,
  ) {}

  @AdminRoute(ADMIN_ROUTES.consolePrivacy)
  async privacy(@Param('id') id: string): Promise<PrivacyBySite> {
    const federation = await this.federations.get(id);
    return privacyBySite(federation, await this.store.rounds.list(id));
  }

  @AdminRoute(ADMIN_ROUTES.consoleAudit)
  async auditStatus(): Promise<TranscriptStatus> {
    const keys = new Map(
      (await this.sites.list()).map((s) => [s.name, Uint8Array.from(Buffer.from(s.signingPublicKey, 'hex'))]),
    );
    return transcriptStatus(await this.audit.all(), this.publicKey(), keys);
  }

  /** The transcript's audit report (`fedistill audit report`), as a download. */
  @AdminRoute(ADMIN_ROUTES.consoleAuditReport)
  async auditReport(@Query('format') format: string | undefined, @Res() res: Response): Promise<void> {
    const chosen = format ?? 'html';
    if (!(chosen in REPORT_TYPES))
      throw new RequestInvalidError(`'format' must be one of html, md, json, not '${chosen}'`);
    const kind = chosen as keyof typeof REPORT_TYPES;
    const entries = await this.audit.all();
    const report = buildAuditReport(entries, verifyAuditLog(entries, this.publicKey()));
    res
      .status(200)
      .setHeader('content-type', REPORT_TYPES[kind])
      .setHeader('content-disposition', `attachment; filename="coordinator-audit-report.${kind}"`)
      .send(renderAuditReport(report, kind));
  }

  private publicKey(): string {
    return Buffer.from(this.identity.signingPublicKey).toString('hex');
  }
}
