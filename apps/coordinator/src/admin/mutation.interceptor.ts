import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request } from 'express';
import { catchError, concatMap, from, map, type Observable, throwError } from 'rxjs';
import { MUTATION_RECORDER } from '../tokens';
import { callerOf, routeOf } from './caller';
import { httpStatusOf } from './http-error.filter';
import type { MutationRecorder } from './mutation-recorder';

/**
 * Records each mutating call in the transcript before its response leaves: on success with the
 * route's status, on failure with the status the error filter will send. (Calls the guard refuses
 * never reach here; the guard records those itself.)
 */
@Injectable()
export class MutationInterceptor implements NestInterceptor {
  constructor(@Inject(MUTATION_RECORDER) private readonly recorder: MutationRecorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const caller = callerOf(req);
    const route = routeOf(req);
    if (!caller || route?.access !== 'mutate') return next.handle();
    const record = (status: number) => from(this.recorder.record(req, caller, route, status));
    return next.handle().pipe(
      concatMap((value: unknown) => record(route.success.status).pipe(map(() => value))),
      catchError((err: unknown) => record(httpStatusOf(err)).pipe(concatMap(() => throwError(() => err)))),
    );
  }
}
