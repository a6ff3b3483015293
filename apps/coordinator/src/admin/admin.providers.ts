import type { Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import type { CoordinatorStore } from '@fedistill/store';
import type { CoordinatorConfig } from '../config/coordinator-config';
import type { Transcript } from '../domain/transcript';
import { ACCESS_TOKENS, AUTH_LIMITER, MUTATION_RECORDER, STORE, TRANSCRIPT } from '../tokens';
import { AccessTokenService } from './access-token.service';
import { AdminAuthGuard } from './admin-auth.guard';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { MutationInterceptor } from './mutation.interceptor';
import { MutationRecorder } from './mutation-recorder';

/** Access control of the admin API: tokens, the application-wide guard, the transcript of changes. */
export function adminProviders(config: CoordinatorConfig): Provider[] {
  return [
    {
      provide: ACCESS_TOKENS,
      inject: [STORE, TRANSCRIPT],
      useFactory: (store: CoordinatorStore, transcript: Transcript) =>
        new AccessTokenService(store.accessTokens, transcript, {
          defaultMs: config.admin.accessTokens.defaultTtlMs,
          maxMs: config.admin.accessTokens.maxTtlMs,
        }),
    },
    {
      provide: AUTH_LIMITER,
      useFactory: () =>
        new AuthFailureLimiter(config.admin.authFailures.limit, config.admin.authFailures.windowMs),
    },
    {
      provide: MUTATION_RECORDER,
      inject: [TRANSCRIPT],
      useFactory: (transcript: Transcript) => new MutationRecorder(transcript),
    },
    // Every route passes the guard; a route missing from the registry is refused.
    { provide: APP_GUARD, useClass: AdminAuthGuard },
    { provide: APP_INTERCEPTOR, useClass: MutationInterceptor },
    // Controllers that still name it in @UseGuards (operator-token.guard.ts) resolve it here.
    AdminAuthGuard,
  ];
}
