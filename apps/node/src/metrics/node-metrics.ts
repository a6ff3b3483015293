import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DeclineReason } from '@fedistill/wire';
import type { NodeMetricsConfig } from './node-metrics-config';

/** What a round came to at this site (round-answerer.ts's RoundAnswer, plus a failure). */
export type RoundOutcome = 'answered' | 'declined' | 'ended' | 'failed';

/** Seconds: loading data and training teachers, from a fraction of a second to hours. */
const TRAINING_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/** A decline reason without its prefix (BUDGET_EXHAUSTED, ...). */
export const declineCode = (reason: DeclineReason): string =>
  ((DeclineReason as Record<number, string | undefined>)[reason] ?? 'UNKNOWN').replace(
    /^DECLINE_REASON_/,
    '',
  );

/**
 * A node's own Prometheus metrics (docs/metrics.md), in a registry of its own. Fed by the node's
 * events (start-node.ts wires them): round answers, the egress path, teacher preparation and the
 * session's connection; the ledger answers the epsilon gauges at scrape time.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly rounds: Counter<'federation' | 'outcome'>;
  private readonly declines: Counter<'federation' | 'reason'>;
  private readonly sent: Counter<'kind'>;
  private readonly training: Histogram<'federation'>;
  private readonly connected: Gauge;
  private readonly disconnects: Counter;
  private isOpen = false;

  constructor(
    ledger: { readonly spent: number; readonly epsilonLimit: number },
    o: { defaultMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    this.rounds = new Counter({
      name: 'fedistill_node_rounds_total',
      help: 'Rounds this site was invited to, by federation and outcome (answered, declined, ended by the coordinator first, failed).',
      labelNames: ['federation', 'outcome'],
      registers,
    });
    this.declines = new Counter({
      name: 'fedistill_node_round_declines_total',
      help: 'Rounds this site declined, by federation and the reason code it reported (BUDGET_EXHAUSTED, ...).',
      labelNames: ['federation', 'reason'],
      registers,
    });
    new Gauge({
      name: 'fedistill_node_epsilon_spent',
      help: "Epsilon this site's ledger has spent, over all federations, at its own delta and trust assumption.",
      registers,
      collect() {
        this.set(ledger.spent);
      },
    });
    new Gauge({
      name: 'fedistill_node_epsilon_limit',
      help: "This site's epsilon limit (node.yaml privacy.epsilonLimit).",
      registers,
      collect() {
        this.set(ledger.epsilonLimit);
      },
    });
    this.training = new Histogram({
      name: 'fedistill_node_teacher_training_seconds',
      help: "Seconds spent loading the site's data and training (or loading) its teachers for a federation.",
      labelNames: ['federation'],
      buckets: TRAINING_BUCKETS,
      registers,
    });
    this.sent = new Counter({
      name: 'fedistill_node_sent_bytes_total',
      help: 'Request bytes this node sent to the coordinator (each also in its audit log), by message kind.',
      labelNames: ['kind'],
      registers,
    });
    this.connected = new Gauge({
      name: 'fedistill_node_coordinator_connected',
      help: "1 while the node's event stream to the coordinator is open (welcomed), else 0.",
      registers,
    });
    this.disconnects = new Counter({
      name: 'fedistill_node_coordinator_disconnects_total',
      help: 'Times the event stream to the coordinator broke after being open.',
      registers,
    });
    this.connected.set(0);
    if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  round(federation: string, outcome: RoundOutcome, declined?: DeclineReason): void {
    this.rounds.inc({ federation, outcome });
    if (outcome === 'declined' && declined !== undefined)
      this.declines.inc({ federation, reason: declineCode(declined) });
  }

  teachersPrepared(federation: string, ms: number): void {
    this.training.observe({ federation }, ms / 1000);
  }

  egress(kind: string, bytes: number): void {
    this.sent.inc({ kind }, bytes);
  }

  /** The event stream opened (welcomed) or broke. */
  connection(open: boolean): void {
    if (this.isOpen && !open) this.disconnects.inc();
    this.isOpen = open;
    this.connected.set(open ? 1 : 0);
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Serves GET /metrics of `metrics` on `at` (plain HTTP: loopback unless node.yaml allowed more). */
export async function serveNodeMetrics(
  metrics: NodeMetrics,
  at: NodeMetricsConfig,
): Promise<{ readonly port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    metrics.scrape().then(
      (text) => res.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection must not hold a stopping node open.
        server.closeAllConnections();
      }),
  };
}
