import type { Provider } from '@nestjs/common';
import type { CoordinatorStore } from '@fedistill/store';
import type { SiteService } from '../domain/site.service';
import type { FederationService } from '../federation/federation.service';
import type { RoundEngine } from '../rounds/round-engine';
import type { StudentPublisher } from '../students/student-publisher';
import { FEDERATIONS, METRICS, ROUNDS, SITES, STORE, STUDENT_PUBLISHER } from '../tokens';
import { CoordinatorMetrics } from './coordinator-metrics';
import { EpsilonBook } from './epsilon-book';
import { watchRounds, watchStudents } from './round-metrics';

/**
 * The metrics, wired to the domain: round engine events, student publications and the gRPC edge
 * (GRPC_HOST takes `grpcObserver(metrics)`) feed them; the sites and the epsilon book answer
 * the gauges at scrape time.
 */
export function metricsProviders(roundClock: () => number): Provider[] {
  return [
    {
      provide: METRICS,
      inject: [STORE, FEDERATIONS, SITES, ROUNDS, STUDENT_PUBLISHER],
      useFactory: (
        store: CoordinatorStore,
        federations: FederationService,
        sites: SiteService,
        rounds: RoundEngine,
        publisher: StudentPublisher,
      ) => {
        const book = new EpsilonBook({
          federations: async () =>
            (await federations.list()).map((f) => ({ id: f.id, members: f.members, delta: f.privacy.delta })),
          rounds: (id) => store.rounds.list(id),
        });
        const metrics = new CoordinatorMetrics({
          sites: async () => {
            const live = (await sites.list()).filter((s) => !s.revoked);
            return { enrolled: live.length, online: live.filter((s) => s.online).length };
          },
          epsilon: () => book.figures(),
        });
        // Stage durations by the rounds' own clock (the simulator's runs ahead of the wall clock).
        watchRounds(rounds, metrics, book, roundClock);
        watchStudents(publisher, metrics);
        return metrics;
      },
    },
  ];
}
