import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from '../main';

/** Runs the CLI in-process with stdout and stderr captured. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await runCli(['node', 'fedistill', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/**
 * `fedistill coordinator access ...` against a stand-in admin API that records each request
 * (the real API's behaviour is tested in apps/coordinator/src/admin/admin-api.spec.ts).
 */
describe('coordinator access', () => {
  let server: http.Server;
  let flags: string[];
  const seen: Array<{ method: string; url: string; auth: string; body: unknown }> = [];
  const token = {
    name: 'privacy-officer',
    role: 'auditor',
    createdBy: 'config:operator',
    createdAt: '2026-12-02T00:00:00.000Z',
    expiresAt: '2027-01-01T00:00:00.000Z',
    revokedAt: null,
    state: 'active',
  };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body: unknown = raw ? JSON.parse(raw) : undefined;
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          auth: req.headers.authorization ?? '',
          body,
        });
        res.setHeader('content-type', 'application/json');
        if (req.url === '/api/v1/access-tokens' && req.method === 'POST') {
          const b = body as { name: string; role: string };
          res.statusCode = b.name === 'taken' ? 409 : 201;
          res.end(
            JSON.stringify(
              b.name === 'taken'
                ? { error: "access token 'taken' already exists", status: 409 }
                : { name: b.name, role: b.role, token: 'fdat_secret', expiresAt: '2027-01-01T00:00:00.000Z' },
            ),
          );
        } else if (req.url === '/api/v1/access-tokens') res.end(JSON.stringify({ accessTokens: [token] }));
        else res.end(JSON.stringify({ ...token, state: 'revoked', revokedAt: '2026-12-02T01:00:00.000Z' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    flags = [
      '--admin-url',
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      '--admin-token',
      'op',
    ];
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
  });

  it('creates a token: the secret alone on stdout, the note on stderr', async () => {
    const res = await run([
      'coordinator',
      'access',
      'create',
      '--name',
      'ro',
      '--role',
      'auditor',
      '--ttl',
      '1d',
      ...flags,
    ]);
    expect(res).toEqual({
      code: 0,
      stdout: 'fdat_secret\n',
      stderr: "(auditor token 'ro', expires 2027-01-01T00:00:00.000Z; it is not shown again)\n",
    });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/v1/access-tokens',
        auth: 'Bearer op',
        body: { name: 'ro', role: 'auditor', ttl: '1d' },
      },
    ]);
  });

  it('refuses a role that does not exist before calling the coordinator, and relays refusals', async () => {
    const bad = await run(['coordinator', 'access', 'create', '--name', 'x', '--role', 'admin', ...flags]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--role must be operator or auditor, not 'admin'");
    expect(seen).toEqual([]);
    const taken = await run([
      'coordinator',
      'access',
      'create',
      '--name',
      'taken',
      '--role',
      'auditor',
      ...flags,
    ]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("coordinator refused (409): access token 'taken' already exists");
  });

  it('lists tokens as a table or JSON, and revokes one by name', async () => {
    const table = await run(['coordinator', 'access', 'list', ...flags]);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+ROLE\s+STATE\s+EXPIRES\s+CREATED BY$/);
    expect(table.stdout).toContain('privacy-officer  auditor  active');
    const json = await run(['coordinator', 'access', 'list', '--json', ...flags]);
    expect(JSON.parse(json.stdout)).toEqual([token]);
    const revoked = await run([
      'coordinator',
      'access',
      'revoke',
      'privacy-officer',
      '--reason',
      'left',
      ...flags,
    ]);
    expect(revoked.stdout).toBe("access token 'privacy-officer' revoked\n");
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/api/v1/access-tokens/privacy-officer/revoke',
      body: { reason: 'left' },
    });
  });
});
