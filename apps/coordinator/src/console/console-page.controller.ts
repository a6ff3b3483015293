import { Controller, Param, Res } from '@nestjs/common';
import { AdminRoute } from '../admin/route-spec';
import { ADMIN_ROUTES } from '../admin/routes';
import type { Response } from 'express';
import { NotFoundError } from '../domain/errors';
import { ConsoleAssets, defaultConsoleDir } from './console-assets';

/** Scripts and data from this origin only; uPlot sizes its canvas through inline styles. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The dashboard (apps/console), served on the admin port as static files: the page needs no
 * token (it holds no data); every API call it makes carries the bearer token the user pastes.
 */
@Controller()
export class ConsolePageController {
  private assets = ConsoleAssets.load(defaultConsoleDir());

  @AdminRoute(ADMIN_ROUTES.consoleRoot)
  root(@Res() res: Response): void {
    res.redirect(302, '/console/');
  }

  @AdminRoute(ADMIN_ROUTES.consoleIndex)
  index(@Res() res: Response): void {
    // Without the trailing slash the page's relative asset paths would miss /console/.
    if (!res.req.originalUrl.endsWith('/')) return res.redirect(301, '/console/');
    this.send(res, 'index.html');
  }

  @AdminRoute(ADMIN_ROUTES.consoleFile)
  file(@Param('file') file: string, @Res() res: Response): void {
    this.send(res, file);
  }

  private send(res: Response, name: string): void {
    // Built after the coordinator started (npm run build while it runs): read it now.
    if (!this.assets.built) this.assets = ConsoleAssets.load(this.assets.dir);
    if (!this.assets.built) {
      res
        .status(503)
        .type('text/plain')
        .send(`the dashboard is not built (no ${this.assets.dir}/index.html): run "npm run build"\n`);
      return;
    }
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundError(`no dashboard file '${name}'`);
    res
      .status(200)
      .setHeader('content-type', asset.type)
      .setHeader('content-security-policy', CSP)
      .setHeader('x-content-type-options', 'nosniff')
      .setHeader('cache-control', 'no-cache')
      .send(asset.bytes);
  }
}
