import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { parse, stringify } from 'yaml';
import { createDevelopmentPki, type DevelopmentPki } from '@fedistill/pki';
import { initNode } from '../../../node/src';
import { CliError } from '../cli-error';
import { registerNodeCommand } from './node.command';

interface Outcome {
  readonly lines: Map<string, { status: string; reason: string }>;
  readonly error: unknown;
}

/** Runs `fedistill node doctor ARGS`; the checks by name, and the error it ended with, if any. */
async function doctor(args: string[]): Promise<Outcome & { text: string }> {
  const program = new Command('fedistill').exitOverride().configureOutput({ writeErr: () => undefined });
  registerNodeCommand(program);
  let text = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  let error: unknown;
  try {
    await program.parseAsync(['node', 'fedistill', 'node', 'doctor', ...args]);
  } catch (err) {
    error = err;
  } finally {
    spy.mockRestore();
  }
  const lines = new Map<string, { status: string; reason: string }>();
  for (const line of text.trim().split('\n')) {
    const m = /^(ok|warn|fail) +(\S+) +(.*)$/.exec(line);
    if (m) lines.set(m[2]!, { status: m[1]!, reason: m[3]! });
  }
  return { lines, error, text };
}

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function editYaml(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'node.yaml');
  const config = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(config);
  fs.writeFileSync(file, stringify(config));
}

describe('node doctor', () => {
  let root: string;
  let base: string;
  let pki: DevelopmentPki;
  let server: http2.Http2SecureServer;
  let address: string;
  let copies = 0;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-doctor-'));
    pki = await createDevelopmentPki();
    fs.writeFileSync(path.join(root, 'ca.crt'), pki.caCertPem);
    // Stands in for the coordinator's gRPC port: HTTP/2 over TLS with its development certificate.
    server = http2.createSecureServer({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    base = path.join(root, 'base');
    await initNode({ dir: base, coordinator: address, caFile: path.join(root, 'ca.crt'), site: 'site-a' });
    // What `node enroll` records after the coordinator accepted the site.
    fs.writeFileSync(
      path.join(base, 'enrolment.json'),
      JSON.stringify({
        site: 'site-a',
        coordinator: address,
        coordinatorSigningPublicKey: 'ab'.repeat(32),
        heartbeatIntervalMs: 5000,
        enrolledAt: new Date().toISOString(),
      }),
      { mode: 0o600 },
    );
    fs.mkdirSync(path.join(base, 'data'));
    const rows = Array.from({ length: 12 }, (_, i) => `${i / 10},${(12 - i) / 10},${i % 2}`);
    fs.writeFileSync(path.join(base, 'data', 'records.csv'), `a,b,label\n${rows.join('\n')}\n`);
    editYaml(base, (c) => (c.data = { train: 'data/records.csv', labelColumn: 'label', testFraction: 0.25 }));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** A fresh copy of the healthy node directory, changed by `change`. */
  function nodeDir(change: (dir: string) => void = () => undefined): string {
    copies += 1;
    const dir = path.join(root, `node-${copies}`);
    fs.cpSync(base, dir, { recursive: true });
    fs.chmodSync(dir, 0o700);
    change(dir);
    return dir;
  }

  it('passes every check of a healthy, enrolled node directory', async () => {
    const dir = nodeDir();
    const sut = await doctor(['--dir', dir]);
    expect(sut.error).toBeUndefined();
    expect([...sut.lines.keys()]).toEqual([
      'directory',
      'keys',
      'config',
      'ca',
      'enrolment',
      'coordinator',
      'data',
      'teachers',
      'provider:cpu',
    ]);
    expect([...sut.lines.values()].map((l) => l.status)).toEqual(Array(9).fill('ok'));
    expect(sut.lines.get('coordinator')?.reason).toMatch(
      /^TLS to 127\.0\.0\.1:\d+ in \d+ ms, certificate CN=fedistill coordinator/,
    );
    expect(sut.lines.get('data')?.reason).toMatch(/^12 records with 2 features each/);
  });

  it('checks the records against each federation the node holds', async () => {
    const dir = nodeDir((d) => {
      const spec = (shape: number[]) => ({ spec: { labels: ['no', 'yes'], input: { shape } }, members: [] });
      fs.mkdirSync(path.join(d, 'federations', 'fits'), { recursive: true });
      fs.writeFileSync(path.join(d, 'federations', 'fits', 'federation.json'), JSON.stringify(spec([2])));
      fs.mkdirSync(path.join(d, 'federations', 'wider'), { recursive: true });
      fs.writeFileSync(path.join(d, 'federations', 'wider', 'federation.json'), JSON.stringify(spec([3])));
    });
    const sut = await doctor(['--dir', dir]);
    expect(sut.lines.get('data:fits')).toEqual({
      status: 'ok',
      reason: "9 training and 3 test records fit federation 'fits' (input [2], 2 classes)",
    });
    expect(sut.lines.get('data:wider')?.status).toBe('fail');
    expect(sut.lines.get('data:wider')?.reason).toMatch(
      /has 2 features per record; federation 'wider' expects shape \[3\]/,
    );
    expect(sut.error).toBeInstanceOf(CliError);
  });

  it('prints JSON with every check and exits 1 when one fails', async () => {
    const dir = nodeDir((d) => fs.chmodSync(path.join(d, 'site.key'), 0o644));
    const sut = await doctor(['--dir', dir, '--json']);
    const json = JSON.parse(sut.text) as { ok: boolean; checks: { name: string; status: string }[] };
    expect(json.ok).toBe(false);
    expect(json.checks.find((c) => c.name === 'keys')?.status).toBe('fail');
    expect(json.checks.find((c) => c.name === 'config')?.status).toBe('ok');
    expect(sut.error).toBeInstanceOf(CliError);
    expect((sut.error as CliError).exitCode).toBe(1);
  });

  it.each([
    [
      'keys readable by others',
      (d: string) => fs.chmodSync(path.join(d, 'site.key'), 0o644),
      'keys',
      /readable by others \(mode 644\): chmod 600/,
    ],
    [
      'a directory others can write to',
      (d: string) => fs.chmodSync(d, 0o777),
      'directory',
      /writable by group or others \(mode 0777\)/,
    ],
    [
      'a missing CA certificate',
      (d: string) => fs.rmSync(path.join(d, 'ca.crt')),
      'ca',
      /ca\.crt does not exist/,
    ],
    [
      'no enrolment',
      (d: string) => fs.rmSync(path.join(d, 'enrolment.json')),
      'enrolment',
      /is not enrolled .*fedistill node enroll/,
    ],
    [
      'an unparsable node.yaml',
      (d: string) => fs.appendFileSync(path.join(d, 'node.yaml'), 'executionProvider: tpu\n'),
      'config',
      /executionProvider: Invalid option/,
    ],
    [
      'a missing data file',
      (d: string) => fs.rmSync(path.join(d, 'data', 'records.csv')),
      'data',
      /records\.csv does not exist/,
    ],
    [
      'a data file that does not parse',
      (d: string) => fs.appendFileSync(path.join(d, 'data', 'records.csv'), '0.5,oops,1\n'),
      'data',
      /records\.csv.*oops/,
    ],
  ])('fails on %s, naming the reason', async (_what, change, check, reason) => {
    const sut = await doctor(['--dir', nodeDir(change)]);
    expect(sut.lines.get(check)?.status).toBe('fail');
    expect(sut.lines.get(check)?.reason).toMatch(reason);
    expect(sut.error).toBeInstanceOf(CliError);
  });

  it('fails when the coordinator does not listen', async () => {
    const port = await closedPort();
    const dir = nodeDir((d) => editYaml(d, (c) => (c.coordinator = `127.0.0.1:${port}`)));
    const sut = await doctor(['--dir', dir, '--timeout', '10s']);
    expect(sut.lines.get('coordinator')).toEqual({
      status: 'fail',
      reason: `connection refused at 127.0.0.1:${port}: is the coordinator running, and is the port open to this host?`,
    });
    // The enrolment names the old address: a warning, not a failure.
    expect(sut.lines.get('enrolment')?.status).toBe('warn');
  });

  it('fails when the coordinator accepts the connection but never answers the TLS handshake', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const dir = nodeDir((d) => editYaml(d, (c) => (c.coordinator = `127.0.0.1:${port}`)));
      const sut = await doctor(['--dir', dir, '--timeout', '300ms']);
      expect(sut.lines.get('coordinator')).toEqual({
        status: 'fail',
        reason: `no TLS answer from 127.0.0.1:${port} within 300 ms`,
      });
    } finally {
      silent.close();
    }
  });

  it("fails when the coordinator's certificate is not from the node's CA, or not for its name", async () => {
    const other = await createDevelopmentPki({ caName: 'somebody else' });
    const strangerCa = nodeDir((d) => fs.writeFileSync(path.join(d, 'ca.crt'), other.caCertPem));
    const stranger = await doctor(['--dir', strangerCa]);
    expect(stranger.lines.get('ca')?.status).toBe('ok');
    expect(stranger.lines.get('coordinator')?.status).toBe('fail');
    expect(stranger.lines.get('coordinator')?.reason).toMatch(
      /refuses \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify)/i,
    );

    const wrongName = nodeDir((d) => editYaml(d, (c) => (c.serverName = 'coordinator.example.org')));
    const named = await doctor(['--dir', wrongName]);
    expect(named.lines.get('coordinator')?.reason).toMatch(
      /ERR_TLS_CERT_ALTNAME_INVALID.*'coordinator\.example\.org'/,
    );
  });

  it('reports a GPU provider that does not load as a warning when only asked about', async () => {
    const sut = await doctor(['--dir', nodeDir(), '--providers', 'cuda']);
    const cuda = sut.lines.get('provider:cuda');
    expect(cuda?.status).toMatch(/^(ok|warn)$/);
    // Where the provider files are absent (CI, this machine) the line says which and where from.
    if (cuda?.status === 'warn')
      expect(cuda.reason).toMatch(
        /^does not load: (ONNX Runtime 1\.30\.0 looked for its CUDA provider in \S+ and .* Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux 1\.30\.0 |.*CUDA)/,
      );
    expect(sut.lines.get('provider:cpu')).toEqual({
      status: 'ok',
      reason: expect.stringMatching(
        /^loads and runs the probe like cpu \(session \d+\.\d ms, run \d+\.\d ms\)$/,
      ),
    });
  });

  it('gives the probe timing of each provider that loads in its JSON', async () => {
    const sut = await doctor(['--dir', nodeDir(), '--providers', 'webgpu', '--json']);
    const json = JSON.parse(sut.text) as {
      checks: { name: string; status: string; reason: string; probe?: Record<string, number> }[];
    };
    const cpu = json.checks.find((c) => c.name === 'provider:cpu');
    expect(cpu?.probe).toEqual({ sessionMs: expect.any(Number), runMs: expect.any(Number), maxDiff: 0 });
    expect(cpu!.probe!['sessionMs']).toBeGreaterThan(0);
    const webgpu = json.checks.find((c) => c.name === 'provider:webgpu');
    if (webgpu?.status === 'warn') {
      expect(webgpu.probe).toBeUndefined();
      expect(webgpu.reason).toMatch(/^does not load: the Vulkan loader .*see docs\/gpu\.md$/);
    }
  });

  it('fails when node.yaml names a GPU provider that does not load, and says what auto would pick', async () => {
    const cuda = await doctor(['--dir', nodeDir((d) => editYaml(d, (c) => (c.executionProvider = 'cuda')))]);
    const line = cuda.lines.get('provider:cuda');
    expect(line?.status).toMatch(/^(ok|fail)$/); // ok only where ONNX Runtime's CUDA provider loads
    if (line?.status === 'fail') expect(line.reason).toMatch(/^does not load, and the node needs it: /);
    const auto = await doctor(['--dir', nodeDir((d) => editYaml(d, (c) => (c.executionProvider = 'auto')))]);
    expect(auto.lines.get('provider:auto')?.reason).toMatch(
      /^executionProvider auto would use (cuda|webgpu|cpu) \(the first of cuda, webgpu, cpu that loads\)$/,
    );
    expect(auto.error).toBeUndefined();
  });

  it('warns about a CA certificate that expires within 30 days', async () => {
    const soon = await createDevelopmentPki({ validityDays: 10 });
    const sut = await doctor([
      '--dir',
      nodeDir((d) => fs.writeFileSync(path.join(d, 'ca.crt'), soon.caCertPem)),
    ]);
    expect(sut.lines.get('ca')?.status).toBe('warn');
    expect(sut.lines.get('ca')?.reason).toMatch(/expires in 9 days$/);
  });

  it.each([
    [['--providers', 'tpu'], /--providers: 'tpu' is not one of cpu, webgpu, cuda/],
    [['--timeout', 'soon'], /--timeout: 'soon' is not a duration/],
  ])('refuses %j naming the option', async (args, message) => {
    const sut = await doctor(['--dir', root, ...args]);
    expect(sut.error).toBeInstanceOf(RangeError);
    expect((sut.error as Error).message).toMatch(message);
  });
});
