import { isIP } from 'node:net';
import { z } from 'zod';

/** node.yaml `metrics:`; absent, the node serves no metrics. */
export interface NodeMetricsConfig {
  readonly host: string;
  /** 0: any free port (tests). */
  readonly port: number;
}

/** Loopback: 127.0.0.0/8, ::1 (also as [::1]) and "localhost". */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** "host:port" or "[v6]:port" into its parts, or undefined when it is neither. */
export function splitHostPort(listen: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m || !(port >= 0 && port <= 65535)) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * The optional metrics section of node.yaml. The node's metrics tell whoever can read them when
 * the site answers rounds and how much of its budget it spent: they stay on loopback (scraped by
 * a local agent) unless the site says otherwise with allowNonLoopback.
 */
export const metricsSection = z
  .object({
    /** Where to serve GET /metrics (Prometheus text format), host:port. */
    listen: z.string().default('127.0.0.1:9464'),
    /** Serve on a non-loopback address (then firewall it: the endpoint has no authentication). */
    allowNonLoopback: z.boolean().default(false),
  })
  .strict()
  .superRefine((m, ctx) => {
    const at = splitHostPort(m.listen);
    if (!at)
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message: `'${m.listen}' is not host:port (e.g. 127.0.0.1:9464)`,
      });
    else if (!isLoopback(at.host) && !m.allowNonLoopback)
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message: `${at.host} is not a loopback address: the metrics endpoint has no authentication and shows when this site answers rounds and what it spent; listen on 127.0.0.1, or set metrics.allowNonLoopback: true and firewall it`,
      });
  });

/** The parsed section as the node uses it (null: no metrics). */
export function metricsConfigOf(m: z.output<typeof metricsSection> | undefined): NodeMetricsConfig | null {
  if (!m) return null;
  const at = splitHostPort(m.listen);
  if (!at) throw new RangeError(`'metrics.listen' is not host:port`); // the schema refused it already
  return Object.freeze(at);
}
