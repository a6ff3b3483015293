import { Controller, Get, Inject, Injectable, type NestMiddleware, Res, UseGuards } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Registry } from 'prom-client';
import { OperatorTokenGuard } from '../admin/operator-token.guard';
import { METRICS } from '../tokens';
import type { CoordinatorMetrics } from './coordinator-metrics';

/**
 * `GET /metrics`: the Prometheus text format, behind the admin API's bearer token. The
 * application-wide AdminAuthGuard admits it as the read route `metrics` of admin/routes.ts (any
 * valid token: operator or auditor); naming the guard here too keeps the route closed should that
 * registry entry ever go.
 */
@Controller()
@UseGuards(OperatorTokenGuard)
export class MetricsController {
  constructor(@Inject(METRICS) private readonly metrics: CoordinatorMetrics) {}

  @Get('metrics')
  async scrape(@Res() res: Response): Promise<void> {
    const text = await this.metrics.scrape();
    // Written as is: Express's send() would add a charset parameter to the exposition's type.
    res.status(200).setHeader('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    res.end(text);
  }
}

/**
 * Counts admin responses with a status of 400 or more, whatever produced them (a guard, the
 * error filter, an unknown route), once each response is sent.
 */
@Injectable()
export class AdminErrorsMiddleware implements NestMiddleware {
  constructor(@Inject(METRICS) private readonly metrics: CoordinatorMetrics) {}

  use(_req: Request, res: Response, next: NextFunction): void {
    res.once('finish', () => {
      if (res.statusCode >= 400) this.metrics.adminErrors.inc({ status: String(res.statusCode) });
    });
    next();
  }
}
