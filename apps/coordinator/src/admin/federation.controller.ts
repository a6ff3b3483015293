import { Body, Controller, Inject, Param, Req } from '@nestjs/common';
import type { Request } from 'express';
import { RequestInvalidError } from '../domain/errors';
import type { FederationService, ReferenceSetView } from '../federation/federation.service';
import type { FederationView } from '@fedistill/protocol';
import type { RoundEngine } from '../rounds/round-engine';
import { type RoundView, withStudents } from '../rounds/round-view';
import type { StudentPublisher } from '../students/student-publisher';
import { FEDERATIONS, ROUNDS, STUDENT_PUBLISHER } from '../tokens';
import { readRawBody } from './http-app';
import { AdminRoute, parseBody } from './route-spec';
import { ADMIN_ROUTES } from './routes';

/** Federations, reference sets and rounds (bearer token; see routes.ts for who may call what). */
@Controller()
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
  @AdminRoute(ADMIN_ROUTES.startRound)
  startRound(@Param('id') id: string, @Body() body: unknown): Promise<RoundView> {
    const { evaluate, studentVersion } = parseBody(ADMIN_ROUTES.startRound, body);
    if (studentVersion !== undefined && !evaluate)
      throw new RequestInvalidError('studentVersion: only with "evaluate": true');
    return this.rounds.start(id, evaluate ? { studentVersion } : undefined);
  }

  @AdminRoute(ADMIN_ROUTES.listRounds)
  async listRounds(@Param('id') id: string): Promise<{ rounds: RoundView[] }> {
    const views = await this.rounds.status(id);
    return { rounds: withStudents(views, await this.publisher.roundStudents(id)) };
  }

  /** Body: the NPY file itself (Content-Type: application/octet-stream). */
  @AdminRoute(ADMIN_ROUTES.registerReferenceSet)
  async registerReferenceSet(@Req() req: Request): Promise<ReferenceSetView> {
    const body = await readRawBody(req);
    if (body.length === 0) {
      throw new RequestInvalidError(
        'send the reference set (an NPY file) as the body, with Content-Type: application/octet-stream',
      );
    }
    return this.federations.registerReferenceSet(
      new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    );
  }

  /** Validated by the service with federationSpecSchema, the schema the registry documents. */
  @AdminRoute(ADMIN_ROUTES.createFederation)
  create(@Body() body: unknown): Promise<FederationView> {
    return this.federations.create(body);
  }

  @AdminRoute(ADMIN_ROUTES.listFederations)
  async list(): Promise<{ federations: FederationView[] }> {
    return { federations: await this.federations.list() };
  }

  @AdminRoute(ADMIN_ROUTES.getFederation)
  show(@Param('id') id: string): Promise<FederationView> {
    return this.federations.get(id);
  }

  @AdminRoute(ADMIN_ROUTES.addFederationSite)
  addSite(@Param('id') id: string, @Body() body: unknown): Promise<FederationView> {
    return this.federations.addSite(id, parseBody(ADMIN_ROUTES.addFederationSite, body).site);
  }
}
