import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { RequestInvalidError } from '../domain/errors';
import type { FederationService, ReferenceSetView } from '../federation/federation.service';
import type { FederationView } from '@fedistill/protocol';
import type { RoundEngine } from '../rounds/round-engine';
import { type RoundView, withStudents } from '../rounds/round-view';
import type { StudentPublisher } from '../students/student-publisher';
import { FEDERATIONS, ROUNDS, STUDENT_PUBLISHER } from '../tokens';
import { OperatorTokenGuard } from './operator-token.guard';

const addSiteBody = z.object({ site: z.string() }).strict();
const startRoundBody = z
  .object({ evaluate: z.boolean().default(false), studentVersion: z.number().int().min(1).optional() })
  .strict();

/** Federations and reference sets, for operators (bearer token). */
@Controller('api/v1')
@UseGuards(OperatorTokenGuard)
export class FederationController {
  constructor(
    @Inject(FEDERATIONS) private readonly federations: FederationService,
    @Inject(ROUNDS) private readonly rounds: RoundEngine,
    @Inject(STUDENT_PUBLISHER) private readonly publisher: StudentPublisher,
  ) {}

  /**
   * Opens the federation's next round with its online member sites. Body (optional JSON):
   * `{"evaluate": true, "studentVersion": N}` opens a securely aggregated evaluation of a
   * published student (the latest without studentVersion) instead of a distillation round.
   */
  @Post('federations/:id/rounds')
  @HttpCode(201)
  startRound(@Param('id') id: string, @Body() body: unknown): Promise<RoundView> {
    const parsed = startRoundBody.safeParse(body ?? {});
    if (!parsed.success)
      throw new RequestInvalidError(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    const { evaluate, studentVersion } = parsed.data;
    if (studentVersion !== undefined && !evaluate)
      throw new RequestInvalidError('studentVersion: only with "evaluate": true');
    return this.rounds.start(id, evaluate ? { studentVersion } : undefined);
  }

  @Get('federations/:id/rounds')
  async listRounds(@Param('id') id: string): Promise<{ rounds: RoundView[] }> {
    const views = await this.rounds.status(id);
    return { rounds: withStudents(views, await this.publisher.roundStudents(id)) };
  }

  /** Body: the NPY file itself (Content-Type: application/octet-stream). */
  @Post('reference-sets')
  @HttpCode(201)
  async registerReferenceSet(@Req() req: Request): Promise<ReferenceSetView> {
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new RequestInvalidError(
        'send the reference set (an NPY file) as the body, with Content-Type: application/octet-stream',
      );
    }
    return this.federations.registerReferenceSet(
      new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    );
  }

  @Post('federations')
  @HttpCode(201)
  create(@Body() body: unknown): Promise<FederationView> {
    return this.federations.create(body);
  }

  @Get('federations')
  async list(): Promise<{ federations: FederationView[] }> {
    return { federations: await this.federations.list() };
  }

  @Get('federations/:id')
  show(@Param('id') id: string): Promise<FederationView> {
    return this.federations.get(id);
  }

  @Post('federations/:id/sites')
  @HttpCode(200)
  addSite(@Param('id') id: string, @Body() body: unknown): Promise<FederationView> {
    const parsed = addSiteBody.safeParse(body ?? {});
    if (!parsed.success)
      throw new RequestInvalidError(`'site': ${parsed.error.issues[0]?.message ?? 'is required'}`);
    return this.federations.addSite(id, parsed.data.site);
  }
}
