import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * SPEC privacy model item 1: nothing leaves a site except through the egress gate
 * (egress.ts), which admits only the v1 protocol's messages and logs each one before it is
 * sent. The gate's own tests show what it refuses; this spec shows there is no other way out:
 * it follows every import of the node program (apps/node and every library it reaches) and
 * fails if any file other than egress.ts (with its TLS layer, egress-tls.ts) can open a connection.
 */
const REPO = path.resolve(__dirname, '..', '..', '..');
const GATE = path.join(REPO, 'apps', 'node', 'src', 'egress.ts');
/**
 * The gate's TLS layer: it wraps the TCP socket grpc-js opened for the gate's channel (it opens
 * none itself), so that no IP address is sent as a TLS server name. It alone may import
 * node:tls, and only the gate may import it.
 */
const GATE_TLS = path.join(REPO, 'apps', 'node', 'src', 'egress-tls.ts');

/**
 * The node's optional metrics endpoint (node.yaml `metrics:`, off by default, loopback unless
 * allowed): a listener that answers scrapes with counters about the node's own operation (rounds,
 * epsilon spent, bytes sent; never a record or a release). It alone may import node:http, and only
 * to serve: a client call (request, get, an Agent) there is still a way out.
 */
const METRICS_LISTENER = path.join(REPO, 'apps', 'node', 'src', 'metrics', 'node-metrics.ts');
const HTTP_CLIENT_CALLS = /\bhttp\.(request|get)\s*\(|new\s+http\.Agent\b|\bhttp\.globalAgent\b/;
/** node:net helpers that only parse addresses. */
const ADDRESS_PARSERS = /^\{?\s*(isIP|isIPv4|isIPv6)(\s*,\s*(isIP|isIPv4|isIPv6))*\s*\}?$/;

/** Modules that can send bytes off the machine. */
const NETWORK_MODULES = /^(node:)?(net|tls|http|https|http2|dgram|child_process|cluster|worker_threads)$/;
/** Runtime names of @grpc/grpc-js that open channels (types and `status` are harmless). */
const GRPC_SENDERS =
  /\b(Client|Channel|credentials|makeClientConstructor|makeGenericClientConstructor|loadPackageDefinition)\b/;
/** Globals that send bytes without an import. */
const NETWORK_GLOBALS = /\b(fetch|WebSocket|XMLHttpRequest|EventSource)\s*\(|new\s+(WebSocket|EventSource)\b/;

interface Import {
  readonly names: string;
  readonly from: string;
  readonly typeOnly: boolean;
}

function importsOf(source: string): Import[] {
  const found: Import[] = [];
  const statement =
    /(?:import|export)\s+(type\s+)?([\s\S]*?)\s+from\s+'([^']+)'|require\('([^']+)'\)|import\('([^']+)'\)/g;
  for (const m of source.matchAll(statement)) {
    if (m[3]) found.push({ names: m[2] ?? '', from: m[3], typeOnly: Boolean(m[1]) });
    else found.push({ names: '*', from: (m[4] ?? m[5]) as string, typeOnly: false });
  }
  return found;
}

function resolveLocal(from: string, spec: string): string | undefined {
  const alias = /^@fedistill\/([a-z-]+)$/.exec(spec);
  const base = alias
    ? path.join(REPO, 'libs', alias[1] as string, 'src', 'index')
    : spec.startsWith('.')
      ? path.resolve(path.dirname(from), spec)
      : undefined;
  if (!base) return undefined;
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')])
    if (fs.existsSync(candidate)) return candidate;
  throw new Error(`${path.relative(REPO, from)}: cannot resolve '${spec}'`);
}

/** The problems in one file's source (exported for the scanner's own test). */
export function violationsIn(file: string, source: string): string[] {
  const problems: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const imp of importsOf(code)) {
    const gateTls = file === GATE_TLS && /^node:tls$/.test(imp.from);
    // Types open nothing; isIP and friends only parse strings.
    const harmless =
      imp.typeOnly || (/^(node:)?net$/.test(imp.from) && ADDRESS_PARSERS.test(imp.names.trim()));
    const listener = file === METRICS_LISTENER && /^node:http$/.test(imp.from);
    if (NETWORK_MODULES.test(imp.from) && !gateTls && !harmless && !listener)
      problems.push(`${file} imports ${imp.from}`);
    if (
      file !== GATE &&
      imp.from.startsWith('.') &&
      path.resolve(path.dirname(file), imp.from) === GATE_TLS.slice(0, -3)
    )
      problems.push(`${file} imports the gate's TLS layer`);
    if (imp.from === '@grpc/grpc-js' && !imp.typeOnly && file !== GATE) {
      const values = imp.names.replace(/\btype\s+\w+(\s+as\s+\w+)?/g, '');
      if (GRPC_SENDERS.test(values) || imp.names.trim().startsWith('*'))
        problems.push(`${file} imports a gRPC sender from @grpc/grpc-js (${imp.names.replace(/\s+/g, ' ')})`);
    }
  }
  if (NETWORK_GLOBALS.test(code) && file !== GATE) problems.push(`${file} calls a network global`);
  if (file === METRICS_LISTENER && HTTP_CLIENT_CALLS.test(code))
    problems.push(`${file} makes an HTTP client call (the metrics listener may only serve)`);
  return problems;
}

function closure(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imp of importsOf(fs.readFileSync(file, 'utf8'))) {
      const next = resolveLocal(file, imp.from);
      if (next) queue.push(next);
    }
  }
  return [...seen];
}

describe('the node has one way out', () => {
  const files = closure(path.join(REPO, 'apps', 'node', 'src', 'index.ts'));

  it('reaches the node program, its libraries and the gate', () => {
    const rel = files.map((f) => path.relative(REPO, f));
    expect(rel).toEqual(expect.arrayContaining(['apps/node/src/egress.ts', 'apps/node/src/start-node.ts']));
    expect(rel.some((f) => f.startsWith('libs/secagg/'))).toBe(true);
    expect(rel.some((f) => f.startsWith('libs/distill/'))).toBe(true);
  });

  it('no file but egress.ts can open a connection', () => {
    const problems = files.flatMap((f) => violationsIn(f, fs.readFileSync(f, 'utf8')));
    expect(problems.map((p) => p.replaceAll(`${REPO}/`, ''))).toEqual([]);
  });

  it('the scanner sees each way out it forbids', () => {
    const other = path.join(REPO, 'apps', 'node', 'src', 'other.ts');
    expect(violationsIn(other, "import * as net from 'node:net';")).toHaveLength(1);
    expect(violationsIn(other, "import { request } from 'https';")).toHaveLength(1);
    expect(violationsIn(other, "import { Client, status } from '@grpc/grpc-js';")).toHaveLength(1);
    expect(violationsIn(other, "import { credentials } from '@grpc/grpc-js';")).toHaveLength(1);
    expect(violationsIn(other, "const cp = require('child_process');")).toHaveLength(1);
    expect(violationsIn(other, 'await fetch(url, { method: "POST" });')).toHaveLength(1);
    expect(violationsIn(other, "import { status, type ServiceError } from '@grpc/grpc-js';")).toEqual([]);
    expect(violationsIn(GATE, "import { Client, credentials } from '@grpc/grpc-js';")).toEqual([]);
    expect(violationsIn(GATE, "import { tlsChannelCredentials } from './egress-tls';")).toEqual([]);
    expect(violationsIn(other, "import { tlsChannelCredentials } from './egress-tls';")).toHaveLength(1);
    expect(violationsIn(other, "import { connect } from 'node:tls';")).toHaveLength(1);
    expect(violationsIn(GATE_TLS, "import { connect } from 'node:tls';")).toEqual([]);
    expect(violationsIn(GATE_TLS, "import { connect } from 'node:net';")).toHaveLength(1);
    expect(violationsIn(other, "import type { AddressInfo } from 'node:net';")).toEqual([]);
    expect(violationsIn(other, "import { isIP } from 'node:net';")).toEqual([]);
    expect(violationsIn(other, "import { isIP, connect } from 'node:net';")).toHaveLength(1);
    expect(violationsIn(other, "import * as http from 'node:http';")).toHaveLength(1);
    expect(violationsIn(METRICS_LISTENER, "import * as http from 'node:http'; http.createServer();")).toEqual(
      [],
    );
    expect(
      violationsIn(METRICS_LISTENER, "import * as http from 'node:http'; http.request('http://x');"),
    ).toHaveLength(1);
    expect(violationsIn(METRICS_LISTENER, "import * as https from 'node:https';")).toHaveLength(1);
  });
});
