import type { Request } from 'express';
import type { Transcript } from '../domain/transcript';
import type { AdminCaller } from './caller';
import type { AdminRouteSpec } from './route-spec';

/**
 * Writes one transcript entry per mutating admin call that passed authentication, accepted or
 * refused, with the token's name: who asked the coordinator to change what, and the outcome.
 */
export class MutationRecorder {
  constructor(private readonly transcript: Transcript) {}

  async record(req: Request, caller: AdminCaller, route: AdminRouteSpec, status: number): Promise<void> {
    await this.transcript.append({
      event: 'admin',
      peer: caller.name,
      kind: route.operationId,
      detail: JSON.stringify({ role: caller.role, method: req.method, path: req.path, status }),
    });
  }
}
