import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds: from well under a second (a stage everyone answers at once) to a slow stage's deadline. */
const STAGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** Seconds: a student of a small MLP trains in under a second; a large one for many minutes. */
const TRAINING_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * What gauges read when scraped: filled in by the wiring (metrics.providers.ts) from the domain
 * services, so this file knows nothing of them.
 */
export interface GaugeSources {
  /** Enrolled sites that are not revoked, and how many of them are online now. */
  sites(): Promise<{ enrolled: number; online: number }>;
  /** Epsilon spent, composed per federation and per site of each federation (see epsilon-book.ts). */
  epsilon(): Promise<{
    federations: ReadonlyArray<{ federation: string; epsilon: number }>;
    sites: ReadonlyArray<{ federation: string; site: string; epsilon: number }>;
  }>;
}

/**
 * The coordinator's Prometheus metrics (docs/metrics.md lists each with its labels), in a
 * registry of its own (never prom-client's global one: two coordinators in one process, as the
 * tests start them, must not share counters). Counters and histograms are fed by the listeners
 * in round-metrics.ts and by the gRPC and admin edges; gauges are read at scrape time.
 */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  readonly rounds: Counter<'federation' | 'kind' | 'outcome'>;
  readonly stageSeconds: Histogram<'stage'>;
  readonly dropouts: Counter<'federation'>;
  readonly declines: Counter<'federation' | 'reason'>;
  readonly receivedBytes: Counter<'method'>;
  readonly grpcErrors: Counter<'method' | 'code'>;
  readonly adminErrors: Counter<'status'>;
  readonly trainingSeconds: Histogram<'federation'>;

  constructor(sources: GaugeSources, o: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.rounds = new Counter({
      name: 'fedistill_rounds_total',
      help: 'Rounds that ended, by federation, kind (distill, evaluation) and outcome (completed, abandoned).',
      labelNames: ['federation', 'kind', 'outcome'],
      registers,
    });
    this.stageSeconds = new Histogram({
      name: 'fedistill_round_stage_duration_seconds',
      help: 'How long each secure-aggregation stage of a round stayed open (keys, shares, inputs, consistency, unmask).',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.dropouts = new Counter({
      name: 'fedistill_round_dropouts_total',
      help: 'Participants of ended rounds whose masked input never arrived and that did not decline.',
      labelNames: ['federation'],
      registers,
    });
    this.declines = new Counter({
      name: 'fedistill_round_declines_total',
      help: 'Participants of ended rounds that declined, by the reason code they reported (BUDGET_EXHAUSTED, ...).',
      labelNames: ['federation', 'reason'],
      registers,
    });
    this.receivedBytes = new Counter({
      name: 'fedistill_grpc_received_bytes_total',
      help: 'Request bytes received from nodes over gRPC, by method (e.g. Rounds/SubmitMaskedSummary).',
      labelNames: ['method'],
      registers,
    });
    this.grpcErrors = new Counter({
      name: 'fedistill_grpc_errors_total',
      help: 'Node requests answered with an error, by method and gRPC status code name.',
      labelNames: ['method', 'code'],
      registers,
    });
    this.adminErrors = new Counter({
      name: 'fedistill_admin_request_errors_total',
      help: 'Admin HTTP requests answered with a status of 400 or more, by status code.',
      labelNames: ['status'],
      registers,
    });
    this.trainingSeconds = new Histogram({
      name: 'fedistill_student_training_seconds',
      help: 'Wall-clock seconds spent distilling each published student, by federation.',
      labelNames: ['federation'],
      buckets: TRAINING_BUCKETS,
      registers,
    });
    this.gauges(sources, registers);
    if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  private gauges(sources: GaugeSources, registers: Registry[]): void {
    new Gauge({
      name: 'fedistill_sites_online',
      help: 'Enrolled, unrevoked sites online now (an open event stream and recent heartbeats).',
      registers,
      async collect() {
        this.set((await sources.sites()).online);
      },
    });
    new Gauge({
      name: 'fedistill_sites_enrolled',
      help: 'Enrolled sites that are not revoked.',
      registers,
      async collect() {
        this.set((await sources.sites()).enrolled);
      },
    });
    new Gauge({
      name: 'fedistill_federation_epsilon_spent',
      help: "Epsilon of the federation's completed rounds composed at its delta, as its epsilon cap counts it.",
      labelNames: ['federation'],
      registers,
      async collect() {
        this.reset();
        for (const f of (await sources.epsilon()).federations)
          this.set({ federation: f.federation }, f.epsilon);
      },
    });
    new Gauge({
      name: 'fedistill_site_epsilon_spent',
      help: "Epsilon a site spent on a federation's rounds (those its masked input reached), composed under the rounds' announced noise plan.",
      labelNames: ['federation', 'site'],
      registers,
      async collect() {
        this.reset();
        for (const s of (await sources.epsilon()).sites)
          this.set({ federation: s.federation, site: s.site }, s.epsilon);
      },
    });
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Every metric family name this registry exports (what deploy/grafana is checked against). */
  names(): string[] {
    return this.registry.getMetricsAsArray().map((m) => m.name);
  }
}
