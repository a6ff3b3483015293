import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { AuthenticationError } from '../domain/errors';
import { CONFIG } from '../tokens';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Admits admin requests that carry the operator's bearer token (compared in constant time). */
@Injectable()
export class OperatorTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(CONFIG) config: CoordinatorConfig) {
    this.expected = digest(config.admin.operatorToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    if (!header)
      throw new AuthenticationError(
        'missing Authorization header: send "Authorization: Bearer <operator token>"',
      );
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match?.[1]) throw new AuthenticationError('Authorization header must be "Bearer <operator token>"');
    if (!timingSafeEqual(digest(match[1]), this.expected))
      throw new AuthenticationError('wrong operator token');
    return true;
  }
}
