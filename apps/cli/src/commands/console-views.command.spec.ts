import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import {
  type PrivacyBySite,
  registerConsoleViewCommands,
  renderAuditStatus,
  renderPrivacy,
  type TranscriptStatus,
} from './console-views.command';

const PRIVACY: PrivacyBySite = {
  federationId: 'strict',
  delta: 1e-5,
  epsilonCap: 50,
  points: [
    {
      round: 1,
      status: 'completed',
      federation: 3.1234567,
      sites: { 'st-marys': 3.1234567, riverside: 3.1234567 },
    },
    {
      round: 2,
      status: 'abandoned',
      federation: 3.1234567,
      sites: { 'st-marys': 4.4, riverside: 3.1234567 },
    },
  ],
  siteLimits: { 'st-marys': null, northgate: 3.5 },
};

const STATUS: TranscriptStatus = {
  ok: true,
  entries: 42,
  head: { seq: 42, hash: 'ab'.repeat(32) },
  publicKey: 'cd'.repeat(32),
  problem: null,
  anchors: [
    {
      site: 'st-marys',
      received: 2,
      verified: 2,
      latest: { sequence: 17, signedAt: '2026-12-02T10:00:00.000Z', recordedAt: '2026-12-02T10:00:00.100Z' },
    },
  ],
  checkedAt: '2026-12-02T10:01:00.000Z',
};

/** A stand-in for the coordinator's console routes: what they answer, and the headers they got. */
function coordinator(): Promise<{ url: string; seen: string[]; close: () => void }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.url ?? ''} ${req.headers.authorization ?? ''}`);
    if (req.headers.authorization !== 'Bearer good') {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"wrong token","status":401}');
      return;
    }
    const body =
      req.url === '/api/v1/console/federations/strict/privacy'
        ? JSON.stringify(PRIVACY)
        : req.url === '/api/v1/console/audit'
          ? JSON.stringify(STATUS)
          : req.url === '/api/v1/console/audit/report?format=md'
            ? '# Audit report: coordinator\n'
            : undefined;
    if (body === undefined) res.writeHead(404).end('{"error":"no such route"}');
    else res.writeHead(200).end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
        close: () => server.close(),
      }),
    ),
  );
}

async function run(args: string[]): Promise<{ out: string; exitCode: number }> {
  const program = new Command('fedistill').exitOverride().configureOutput({ writeErr: () => undefined });
  const sut = program.command('coordinator');
  registerConsoleViewCommands(sut);
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'fedistill', 'coordinator', ...args]);
    return { out, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    spy.mockRestore();
    process.exitCode = before;
  }
}

describe(registerConsoleViewCommands.name, () => {
  let c: Awaited<ReturnType<typeof coordinator>>;
  beforeAll(async () => {
    c = await coordinator();
  });
  afterAll(() => c.close());
  const admin = (token = 'good') => ['--admin-url', c.url, '--admin-token', token];

  it("prints exactly the dashboard route's JSON with --json, sending the token", async () => {
    const privacy = await run(['privacy', '--federation', 'strict', '--json', ...admin()]);
    expect(JSON.parse(privacy.out)).toEqual(PRIVACY);
    const status = await run(['audit', 'status', '--json', ...admin()]);
    expect(JSON.parse(status.out)).toEqual(STATUS);
    expect(c.seen).toContain('/api/v1/console/audit Bearer good');
  });

  it('downloads the audit report in the format asked, and refuses an unknown format before calling', async () => {
    expect((await run(['audit', 'report', '--format', 'md', ...admin()])).out).toBe(
      '# Audit report: coordinator\n',
    );
    const calls = c.seen.length;
    await expect(run(['audit', 'report', '--format', 'pdf', ...admin()])).rejects.toThrow(
      "--format must be one of html, md, json, not 'pdf'",
    );
    expect(c.seen).toHaveLength(calls);
  });

  it("names the coordinator's refusal", async () => {
    await expect(run(['audit', 'status', ...admin('bad')])).rejects.toThrow(
      'coordinator refused (401): wrong token',
    );
  });

  it('names the failing entry when the transcript fails verification', () => {
    const failing = {
      ...STATUS,
      ok: false,
      problem: { seq: '7', position: 7, field: 'hash', reason: 'content changed' },
    };
    expect(renderAuditStatus(failing)).toBe(
      'TRANSCRIPT FAILED VERIFICATION at entry 7, field hash: content changed\nanchors received from sites:\n' +
        '  st-marys: 2 of 2 anchors verify; latest covers its entry 17, signed 2026-12-02T10:00:00.000Z',
    );
  });
});

describe(renderPrivacy.name, () => {
  it('tabulates epsilon after each round, rounded, with the site limits reported', () => {
    expect(renderPrivacy(PRIVACY).split('\n')).toEqual([
      'federation strict: epsilon at delta 0.00001, cap 50',
      'round  status     federation  riverside  st-marys',
      '1      completed  3.12        3.12       3.12',
      '2      abandoned  3.12        3.12       4.4',
      "Each column composes that party's rounds up to the row (RDP), under the rounds' announced noise plan; a site that trusts less charges its own ledger more.",
      'site limits (as reported when declining): northgate 3.5',
    ]);
  });
});
