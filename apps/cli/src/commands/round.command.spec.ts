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
    const code = await runCli(['node', 'fedistill', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const round = (over: Record<string, unknown>) => ({
  round: 4,
  status: 'open',
  stage: 'keys',
  participants: ['a', 'b', 'c'],
  keysFrom: [],
  sharesFrom: [],
  inputsFrom: [],
  declines: [],
  reason: null,
  kind: 'distill',
  queries: 25,
  querySelection: { strategy: 'random' },
  student: null,
  ...over,
});

const WARNING = 'the noise on each released entry (standard deviation 28.3 votes) exceeds ...';
const PUBLISHED = { state: 'published', version: 2, sha256: 'ab'.repeat(32) };

/** A fake admin API: `round start` answers `opened`, then each `round status` the next of `states`. */
function adminApi(states: Array<Record<string, unknown>>): http.Server {
  return http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'POST' && req.url === '/api/v1/federations/bc/rounds') {
      res.statusCode = 201;
      res.end(JSON.stringify(round({ warnings: [WARNING] })));
    } else if (req.method === 'GET' && req.url === '/api/v1/federations/bc/rounds') {
      const next = states.length > 1 ? states.shift() : states[0];
      res.end(JSON.stringify({ rounds: [round({ round: 3, status: 'completed' }), round(next ?? {})] }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: 'no such route', status: 404 }));
    }
  });
}

async function withApi<T>(
  states: Array<Record<string, unknown>>,
  body: (url: string) => Promise<T>,
): Promise<T> {
  const server = adminApi(states);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const start = (url: string, ...more: string[]) =>
  run([
    'coordinator',
    'round',
    'start',
    '--federation',
    'bc',
    '--admin-url',
    url,
    '--admin-token',
    'x'.repeat(32),
    ...more,
  ]);

describe('coordinator round start', () => {
  it("prints the planner's warnings on stderr, and without --wait returns once the round is open", async () => {
    const res = await withApi([{}], (url) => start(url));
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^opened round 4: open \(stage keys\)/);
    expect(res.stderr).toBe(`warning: ${WARNING}\n`);
  });

  it('--wait returns once the round completed and its student is published, and says so', async () => {
    const states = [
      {},
      { status: 'completed', stage: 'done' },
      { status: 'completed', stage: 'done', student: PUBLISHED },
    ];
    const res = await withApi(states, (url) => start(url, '--wait'));
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('opened round 4; waiting for it to close');
    expect(res.stdout).toMatch(/^round 4: completed \(stage done\).*; student v2 \(abababababab\.\.\.\)\n$/);
  });

  it('--wait exits 1 naming the round when it was abandoned', async () => {
    const states = [{ status: 'abandoned', stage: 'abandoned', reason: 'only 1 sites shared their keys' }];
    const res = await withApi(states, (url) => start(url, '--wait'));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('error: round 4 did not complete with a student: round 4: abandoned');
    expect(res.stderr).toContain('only 1 sites shared their keys');
  });
});
