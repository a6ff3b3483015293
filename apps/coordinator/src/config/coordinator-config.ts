import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { zodDuration as duration } from '@fedistill/protocol';

/** A configuration that cannot be used; the message names the setting and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const listen = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => /^[^\s:]+:\d{1,5}$/.test(v) && Number(v.split(':').pop()) <= 65535, {
      message: 'must be HOST:PORT with a port in 0..65535 (0 picks a free port)',
    });

const schema = z
  .object({
    dataDir: z.string().min(1).default('./coordinator-data'),
    grpc: z
      .object({
        listen: listen('0.0.0.0:7443'),
        tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict(),
      })
      .strict(),
    admin: z
      .object({
        listen: listen('127.0.0.1:7080'),
        operatorToken: z.string().min(32, 'must be at least 32 characters').optional(),
        operatorTokenFile: z.string().min(1).optional(),
        /**
         * HTTPS for the admin API: a certificate and key from the same PKI as grpc.tls; `ca` (the
         * CA that signed it) is not used by the server, only by the CLI when given --config.
         */
        tls: z
          .object({ cert: z.string().min(1), key: z.string().min(1), ca: z.string().min(1).optional() })
          .strict()
          .optional(),
        /** Listen in clear text on a non-loopback address anyway (behind a TLS-terminating proxy). */
        allowInsecureNonLoopback: z
          .preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean())
          .default(false),
        /** Named access tokens (operator, auditor) created through the API: their lifetimes. */
        accessTokens: z
          .object({ defaultTtl: duration('30d'), maxTtl: duration('365d') })
          .strict()
          .prefault({})
          .refine((t) => t.defaultTtl <= t.maxTtl, { message: 'defaultTtl must not exceed maxTtl' }),
        /** Failed authentications allowed per client address in `window` before 429. */
        authFailures: z
          .object({
            limit: z.coerce.number().int().min(1).max(100_000).default(10),
            window: duration('1m'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .refine((a) => (a.operatorToken === undefined) !== (a.operatorTokenFile === undefined), {
        message: 'set exactly one of operatorToken and operatorTokenFile',
      }),
    auth: z
      .object({ clockSkew: duration('2m') })
      .strict()
      .prefault({}),
    sessions: z
      .object({
        heartbeatInterval: duration('5s'),
        offlineAfter: duration('15s'),
        // Added to the open stage of a round resumed after a restart, or open while the
        // coordinator's storage failed (beyond the stage's own length), so that a node whose
        // reconnect backoff reached its cap (node.yaml reconnect.maxDelay, default 30s) still
        // answers in time.
        resumeGrace: duration('30s'),
      })
      .strict()
      .prefault({})
      .refine((s) => s.offlineAfter > s.heartbeatInterval, {
        message: 'offlineAfter must be longer than heartbeatInterval',
      }),
    enrolment: z
      .object({ defaultTokenTtl: duration('24h'), maxTokenTtl: duration('30d') })
      .strict()
      .prefault({})
      .refine((e) => e.defaultTokenTtl <= e.maxTokenTtl, {
        message: 'defaultTokenTtl must not exceed maxTokenTtl',
      }),
    database: z
      .object({
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave it out for SQLite in dataDir)')
          .optional(),
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
          .default('public'),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    /**
     * `retainFreedHeap: true` lets glibc keep freed heap instead of returning it to the kernel
     * (libs/secagg/src/prg.ts, enableHeapRetention): unmasking at d = 10^6 avoids tens of
     * thousands of page faults per round. The coordinator only ever holds masked vectors and the
     * released sum, so this is safe to turn on here; off by default like every process-wide setting.
     */
    performance: z
      .object({ retainFreedHeap: z.boolean().default(false) })
      .strict()
      .prefault({}),
  })
  .strict();

/** The coordinator's settings, parsed once at start. Durations are milliseconds; paths are absolute. */
export interface CoordinatorConfig {
  readonly dataDir: string;
  readonly grpc: {
    readonly host: string;
    readonly port: number;
    readonly tlsCertPem: string;
    readonly tlsKeyPem: string;
  };
  readonly admin: {
    readonly host: string;
    readonly port: number;
    readonly operatorToken: string;
    /** HTTPS when set (admin.tls); clear HTTP otherwise, only on loopback unless allowed. */
    readonly tls:
      { readonly certPem: string; readonly keyPem: string; readonly caFile: string | undefined } | undefined;
    /** admin.allowInsecureNonLoopback: the operator accepted clear text off loopback. */
    readonly allowInsecureNonLoopback: boolean;
    /** Lifetimes of access tokens created through the API (ms). */
    readonly accessTokens: { readonly defaultTtlMs: number; readonly maxTtlMs: number };
    /** At most `limit` failed authentications per client address in `windowMs`, then 429. */
    readonly authFailures: { readonly limit: number; readonly windowMs: number };
  };
  readonly auth: { readonly clockSkewMs: number };
  readonly sessions: {
    readonly heartbeatIntervalMs: number;
    readonly offlineAfterMs: number;
    /** sessions.resumeGrace: extra time the open stage of a resumed round (or one open during a storage outage) gets (ms). */
    readonly resumeGraceMs: number;
  };
  readonly enrolment: { readonly defaultTokenTtlMs: number; readonly maxTokenTtlMs: number };
  /** Where the coordinator's state lives: PostgreSQL when `url` is set, else SQLite in dataDir. */
  readonly database: { readonly url: string | undefined; readonly schema: string };
  readonly log: { readonly level: string };
  /** performance.retainFreedHeap: opt in to glibc heap retention (faster unmasking). */
  readonly performance: { readonly retainFreedHeap: boolean };
}

const ENV_PREFIX = 'FEDISTILL_';

/** FEDISTILL_ADMIN__OPERATOR_TOKEN=x sets admin.operatorToken; FEDISTILL_DATA_DIR sets dataDir. */
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const out = structuredClone(raw);
  const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  // Only variables naming a setting of this file apply: FEDISTILL_ADMIN_URL (the CLI's) or
  // FEDISTILL_TEST_* (the tests') must not make the coordinator refuse to start.
  const sections = new Set(Object.keys(schema.shape));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const first = camel(name.slice(ENV_PREFIX.length).split('__')[0] ?? '');
    if (!sections.has(first) || (first !== 'dataDir' && !name.includes('__'))) continue;
    const keys = name.slice(ENV_PREFIX.length).split('__').map(camel);
    let node: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys.at(-1) as string] = value;
  }
  return out;
}

function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.length > 0 ? issue.path.join('.') : '(top level)';
}

function readFileSetting(base: string, file: string, setting: string): string {
  const full = path.resolve(base, file);
  try {
    return fs.readFileSync(full, 'utf8');
  } catch {
    throw new ConfigError(`${setting}: cannot read ${full}`);
  }
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The admin API carries the operator's bearer token: off loopback it must be HTTPS, unless the
 * operator says otherwise in so many words (issue 11, finding 10).
 */
function checkAdminTransport(host: string, tls: boolean, allowInsecure: boolean): void {
  if (tls || allowInsecure || isLoopbackHost(host)) return;
  throw new ConfigError(
    `admin.listen: ${host} is not a loopback address and admin.tls is not set, so the operator token and every admin request would cross the network in clear text. ` +
      'Set admin.tls.cert and admin.tls.key (a certificate from the same PKI as grpc.tls), listen on 127.0.0.1, ' +
      'or, behind a TLS-terminating proxy, set admin.allowInsecureNonLoopback: true',
  );
}

function splitListen(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
}

/** Reads, merges with the environment, validates and freezes the coordinator configuration. */
export function loadCoordinatorConfig(file: string, env: NodeJS.ProcessEnv = {}): CoordinatorConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`config file ${file} cannot be read`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`config file ${file} must be a YAML mapping`);
  const parsed = schema.safeParse(applyEnvOverrides(raw as Record<string, unknown>, env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${issuePath(i)}: ${i.message}`);
    throw new ConfigError(`invalid configuration in ${file}:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const base = path.dirname(path.resolve(file));
  const operatorToken =
    c.admin.operatorToken ??
    readFileSetting(base, c.admin.operatorTokenFile ?? '', 'admin.operatorTokenFile').trim();
  if (operatorToken.length < 32)
    throw new ConfigError('admin.operatorTokenFile: the token must be at least 32 characters');
  const adminListen = splitListen(c.admin.listen);
  checkAdminTransport(adminListen.host, c.admin.tls !== undefined, c.admin.allowInsecureNonLoopback);
  const adminTls = c.admin.tls
    ? Object.freeze({
        certPem: readFileSetting(base, c.admin.tls.cert, 'admin.tls.cert'),
        keyPem: readFileSetting(base, c.admin.tls.key, 'admin.tls.key'),
        caFile: c.admin.tls.ca === undefined ? undefined : path.resolve(base, c.admin.tls.ca),
      })
    : undefined;
  return Object.freeze({
    dataDir: path.resolve(base, c.dataDir),
    grpc: Object.freeze({
      ...splitListen(c.grpc.listen),
      tlsCertPem: readFileSetting(base, c.grpc.tls.cert, 'grpc.tls.cert'),
      tlsKeyPem: readFileSetting(base, c.grpc.tls.key, 'grpc.tls.key'),
    }),
    admin: Object.freeze({
      ...adminListen,
      operatorToken,
      tls: adminTls,
      allowInsecureNonLoopback: c.admin.allowInsecureNonLoopback,
      accessTokens: Object.freeze({
        defaultTtlMs: c.admin.accessTokens.defaultTtl,
        maxTtlMs: c.admin.accessTokens.maxTtl,
      }),
      authFailures: Object.freeze({
        limit: c.admin.authFailures.limit,
        windowMs: c.admin.authFailures.window,
      }),
    }),
    auth: Object.freeze({ clockSkewMs: c.auth.clockSkew }),
    sessions: Object.freeze({
      heartbeatIntervalMs: c.sessions.heartbeatInterval,
      offlineAfterMs: c.sessions.offlineAfter,
      resumeGraceMs: c.sessions.resumeGrace,
    }),
    enrolment: Object.freeze({
      defaultTokenTtlMs: c.enrolment.defaultTokenTtl,
      maxTokenTtlMs: c.enrolment.maxTokenTtl,
    }),
    database: Object.freeze({ url: c.database.url, schema: c.database.schema }),
    log: Object.freeze({ level: c.log.level }),
    performance: Object.freeze({ retainFreedHeap: c.performance.retainFreedHeap }),
  });
}
