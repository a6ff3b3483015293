import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, exited, waitFor } from './support/processes';

/** Processes still running whose command line mentions `dir` (the demo's children do). */
function processesUsing(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(dir) && !line.includes('ps -eo'))
    .map((line) => line.trim());
}

/** `npm run demo` is `fedistill demo`: the whole federation, then everything stopped. */
describe('fedistill demo', () => {
  let root: string;
  beforeAll(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-demo-e2e-'))));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('runs private rounds to a published, verified student, prints the table and the dashboard, keeps running until Ctrl-C, and leaves no process behind', async () => {
    const out = path.join(root, 'run');
    const child = spawn(process.execPath, [BIN, 'demo', '--out', out, '--keep-running'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ended = exited(child);
    await waitFor('the demo to wait for Ctrl-C', 180_000, () => {
      if (child.exitCode !== null)
        throw new Error(`the demo exited early (${child.exitCode}):\n${stdout}\n${stderr}`);
      return stdout.includes('Press Ctrl-C to stop them.') ? true : undefined;
    });
    // The dashboard printed at the start, with a read-only token, still served after the rounds.
    const [, url, token] =
      /watch the rounds live in a browser: (http:\/\/127\.0\.0\.1:\d+)\/console\/\n.*\n {6}(\S+)\n/.exec(
        stdout,
      ) ?? [];
    expect((await fetch(`${url}/console/`)).status).toBe(200);
    const headers = { authorization: `Bearer ${token}` };
    expect(await (await fetch(`${url}/api/v1/whoami`, { headers })).json()).toMatchObject({
      name: 'demo-auditor',
      role: 'auditor',
    });
    const start = await fetch(`${url}/api/v1/federations/breast-cancer/rounds`, { method: 'POST', headers });
    expect(start.status).toBe(403);
    expect(processesUsing(out).length).toBeGreaterThanOrEqual(4);
    child.kill('SIGINT');
    const { code } = await ended;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/ROUND {2}STUDENT {2}LOCAL-ONLY/);
    for (const round of [1, 2, 3]) expect(stdout).toMatch(new RegExp(`\\n {4}${round} +\\d+\\.\\d%`));
    expect(stdout).toMatch(/Securely aggregated evaluation of v3 at the hospitals/);
    expect(stdout).toMatch(/was verified by 3 of 3 hospitals/);
    expect(stdout).toContain('every log verified');
    // The exported student is the one every hospital verified.
    const card = JSON.parse(fs.readFileSync(path.join(out, 'student', 'model-card.json'), 'utf8')) as {
      student: { sha256: string };
      privacy: { epsilon: number };
    };
    const onnx = fs.readFileSync(path.join(out, 'student', 'student.onnx'));
    expect(createHash('sha256').update(onnx).digest('hex')).toBe(card.student.sha256);
    expect(card.privacy.epsilon).toBeGreaterThan(0);
    for (const site of ['st-marys', 'riverside', 'northgate']) {
      const record = JSON.parse(
        fs.readFileSync(
          path.join(out, 'sites', site, 'federations', 'breast-cancer', 'students', 'v3', 'student.json'),
          'utf8',
        ),
      ) as { sha256: string; verified: boolean };
      expect(record).toMatchObject({ sha256: card.student.sha256, verified: true });
    }
    expect(processesUsing(out)).toEqual([]);
    // The demo's own budget is a minute; this leaves room for a loaded machine.
  }, 240_000);

  it('stops every process it started on Ctrl-C', async () => {
    const out = path.join(root, 'interrupted');
    const child = spawn(process.execPath, [BIN, 'demo', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitFor('the nodes to start', 60_000, () => (stdout.includes('3/6') ? true : undefined));
    expect(processesUsing(out).length).toBeGreaterThanOrEqual(4);
    child.kill('SIGINT');
    const { code } = await exited(child);
    expect(code).toBe(130);
    expect(stdout).toContain('interrupted: stopping the demo processes');
    expect(processesUsing(out)).toEqual([]);
  });
});
