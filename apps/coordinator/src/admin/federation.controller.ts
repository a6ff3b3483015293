import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { RequestInvalidError } from '../domain/errors';
import type { FederationService, FederationView, ReferenceSetView } from '../federation/federation.service';
import type { RoundEngine } from '../rounds/round-engine';
import type { RoundView } from '../rounds/round-view';
import { FEDERATIONS, ROUNDS } from '../tokens';
import { OperatorTokenGuard } from './operator-token.guard';

const addSiteBody = z.object({ site: z.string() }).strict();

/** Federations and reference sets, for operators (bearer token). */
@Controller('api/v1')
@UseGuards(OperatorTokenGuard)
export class FederationController {
  constructor(
    @Inject(FEDERATIONS) private readonly federations: FederationService,
    @Inject(ROUNDS) private readonly rounds: RoundEngine,
  ) {}

  /** Opens the federation's next round with its online member sites. */
  @Post('federations/:id/rounds')
  @HttpCode(201)
  startRound(@Param('id') id: string): Promise<RoundView> {
    return this.rounds.start(id);
  }

  @Get('federations/:id/rounds')
  async listRounds(@Param('id') id: string): Promise<{ rounds: RoundView[] }> {
    return { rounds: await this.rounds.status(id) };
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
