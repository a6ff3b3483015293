import { status } from '@grpc/grpc-js';
import type { StageName } from '@fedistill/protocol';
import type { RoundEngine } from '../rounds/round-engine';
import type { RoundEvent } from '../rounds/round-events';
import type { CallObserver } from '../grpc/secure-service';
import type { StudentPublisher } from '../students/student-publisher';
import type { CoordinatorMetrics } from './coordinator-metrics';
import type { EpsilonBook } from './epsilon-book';

/** A decline's reason code without its prefix; anything that is not a known name is 'UNKNOWN'. */
export function reasonCode(reason: string): string {
  const m = /^DECLINE_REASON_([A-Z][A-Z_]*)$/.exec(reason);
  return m?.[1] ?? 'UNKNOWN';
}

/** '/fedistill.v1.Rounds/SubmitMaskedSummary' → 'Rounds/SubmitMaskedSummary'. */
export const methodName = (path: string): string => path.replace(/^\/fedistill\.v\d+\./, '');

const CODE_NAMES = new Map<number, string>(
  Object.entries(status)
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .map(([name, code]) => [code, name]),
);

/** The gRPC edge's view for the metrics: request sizes and error codes, by method. */
export function grpcObserver(metrics: CoordinatorMetrics): CallObserver {
  return {
    received: (path, bytes) => metrics.receivedBytes.inc({ method: methodName(path) }, bytes),
    failed: (path, code) =>
      metrics.grpcErrors.inc({ method: methodName(path), code: CODE_NAMES.get(code) ?? String(code) }),
  };
}

/**
 * Feeds the round metrics from the engine's domain events: outcomes, how long each stage stayed
 * open, dropouts and declines of each ended round, and the epsilon book. A stage's duration is
 * measured from the event that opened it in this process (a round resumed after a restart is
 * measured from its next stage on). `now` in milliseconds.
 */
export function watchRounds(
  engine: Pick<RoundEngine, 'onEvent'>,
  metrics: CoordinatorMetrics,
  book: EpsilonBook,
  now: () => number = Date.now,
): void {
  const open = new Map<string, { stage: StageName; since: number }>();
  const observe = (key: string) => {
    const o = open.get(key);
    if (o) metrics.stageSeconds.observe({ stage: o.stage }, (now() - o.since) / 1000);
  };
  engine.onEvent((e: RoundEvent) => {
    const key = `${e.plan.federationId}#${e.plan.round}`;
    switch (e.kind) {
      case 'RoundAnnounced':
        // Also sent again to a site that reconnects: only the first one opens the keys stage.
        if (!open.has(key)) open.set(key, { stage: 'keys', since: now() });
        return;
      case 'StageClosed':
        if (open.get(key)?.stage === e.closed) observe(key);
        open.set(key, { stage: e.next, since: now() });
        return;
      case 'RoundCompleted':
      case 'RoundAbandoned': {
        observe(key);
        open.delete(key);
        const federation = e.plan.federationId;
        const completed = e.kind === 'RoundCompleted';
        metrics.rounds.inc({
          federation,
          kind: e.plan.kind ?? 'distill',
          outcome: completed ? 'completed' : 'abandoned',
        });
        for (const d of e.declines) metrics.declines.inc({ federation, reason: reasonCode(d.reason) });
        const answered = new Set([...e.contributors, ...e.declines.map((d) => d.site)]);
        const dropped = e.plan.participants.filter((p) => !answered.has(p.siteName)).length;
        metrics.dropouts.inc({ federation }, dropped);
        book.record(e.plan, completed, e.contributors);
      }
    }
  });
}

/** Feeds the student training time from each publication. */
export function watchStudents(
  publisher: Pick<StudentPublisher, 'onPublished'>,
  metrics: CoordinatorMetrics,
): void {
  publisher.onPublished(({ record, trainingSeconds }) =>
    metrics.trainingSeconds.observe({ federation: record.federationId }, trainingSeconds),
  );
}
