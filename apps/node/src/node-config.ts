import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { assertSiteName, parseDuration } from '@fedistill/identity';

/** A node directory or configuration that cannot be used; the message names the setting. */
export class NodeConfigError extends Error {
  override readonly name = 'NodeConfigError';
}

/** Files of a node directory. */
export const NODE_FILES = {
  config: 'node.yaml',
  keys: 'site.key',
  ca: 'ca.crt',
  enrolment: 'enrolment.json',
  auditLog: 'audit-log.db',
} as const;

const schema = z
  .object({
    site: z.string().superRefine((v, ctx) => {
      try {
        assertSiteName(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
    coordinator: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be HOST:PORT'),
    ca: z.string().min(1).default(NODE_FILES.ca),
    serverName: z.string().min(1).optional(),
    reconnect: z
      .object({ initialDelay: z.string().default('500ms'), maxDelay: z.string().default('30s') })
      .strict()
      .prefault({}),
    audit: z
      .object({ anchorInterval: z.string().default('60s') })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** A node's settings; paths absolute, durations in milliseconds. */
export interface NodeConfig {
  readonly dir: string;
  readonly site: string;
  readonly coordinator: string;
  readonly caFile: string;
  readonly serverName: string | undefined;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  /** How often the node exchanges signed log heads with the coordinator. */
  readonly anchorIntervalMs: number;
  readonly logLevel: string;
}

function durationSetting(value: string, name: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new NodeConfigError(`${name}: ${(err as Error).message}`);
  }
}

/** Reads and validates DIR/node.yaml. */
export function loadNodeConfig(dir: string): NodeConfig {
  const file = path.join(dir, NODE_FILES.config);
  if (!fs.existsSync(file))
    throw new NodeConfigError(`${file} does not exist: run \`fedistill node init --dir ${dir} ...\` first`);
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new NodeConfigError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new NodeConfigError(`invalid node configuration in ${file}:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const abs = path.resolve(dir);
  return Object.freeze({
    dir: abs,
    site: c.site,
    coordinator: c.coordinator,
    caFile: path.resolve(abs, c.ca),
    serverName: c.serverName,
    reconnect: Object.freeze({
      initialDelayMs: durationSetting(c.reconnect.initialDelay, 'reconnect.initialDelay'),
      maxDelayMs: durationSetting(c.reconnect.maxDelay, 'reconnect.maxDelay'),
    }),
    anchorIntervalMs: durationSetting(c.audit.anchorInterval, 'audit.anchorInterval'),
    logLevel: c.log.level,
  });
}

/** Writes a fresh node.yaml (used by `fedistill node init`). */
export function writeNodeConfig(
  dir: string,
  settings: { site: string; coordinator: string; serverName?: string },
): string {
  const file = path.join(dir, NODE_FILES.config);
  const body = {
    site: settings.site,
    coordinator: settings.coordinator,
    ca: NODE_FILES.ca,
    ...(settings.serverName ? { serverName: settings.serverName } : {}),
    reconnect: { initialDelay: '500ms', maxDelay: '30s' },
    audit: { anchorInterval: '60s' },
    log: { level: 'info' },
  };
  fs.writeFileSync(
    file,
    `# fedistill node configuration (see README, "Running a node")\n${stringify(body)}`,
    { mode: 0o600, flag: 'wx' },
  );
  return file;
}
