import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { postgresSource, runtimeEndpoints } from './postgres-source';

/** A Docker API stand-in on a unix socket, in a child process (the check blocks this one). */
async function fakeRuntime(socket: string, answer: boolean): Promise<ChildProcess> {
  const script = `
    const http = require('node:http');
    http.createServer((req, res) => {
      if (${answer} && req.url === '/_ping') res.end('OK');
    }).listen(process.argv[1], () => process.stdout.write('ready\\n'));`;
  const child = spawn(process.execPath, ['-e', script, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`fake runtime exited with ${String(code)}`)));
  });
  return child;
}

describe(postgresSource.name, () => {
  let dir: string;
  let child: ChildProcess | undefined;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-source-'))));
  afterEach(() => {
    child?.kill();
    child = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uses FEDISTILL_TEST_POSTGRES_URL first, as CI sets it', () => {
    expect(
      postgresSource({ FEDISTILL_TEST_POSTGRES_URL: 'postgres://u:p@h/db', DOCKER_HOST: 'unix:///x' }),
    ).toEqual({
      kind: 'url',
      url: 'postgres://u:p@h/db',
    });
  });

  it('starts a container where a runtime answers its ping', async () => {
    const socket = path.join(dir, 'docker.sock');
    child = await fakeRuntime(socket, true);
    expect(postgresSource({ DOCKER_HOST: `unix://${socket}` })).toEqual({
      kind: 'container',
      runtime: `unix://${socket}`,
    });
  });

  it('skips at once, saying why, where no runtime socket exists', () => {
    const started = Date.now();
    const sut = postgresSource({ DOCKER_HOST: `unix://${dir}/absent.sock` });
    expect(sut).toEqual({
      kind: 'none',
      reason: `FEDISTILL_TEST_POSTGRES_URL is not set and no container runtime answers (unix://${dir}/absent.sock: no socket)`,
    });
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('gives up on a runtime that never answers after its short timeout', async () => {
    const socket = path.join(dir, 'silent.sock');
    child = await fakeRuntime(socket, false);
    const started = Date.now();
    const sut = postgresSource({ DOCKER_HOST: `unix://${socket}` }, 300);
    expect(sut).toEqual({
      kind: 'none',
      reason: expect.stringMatching(/silent\.sock: no answer within 300 ms\)$/),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe(runtimeEndpoints.name, () => {
  it("tries testcontainers' sockets in its order, or DOCKER_HOST alone when set", () => {
    expect(runtimeEndpoints({ XDG_RUNTIME_DIR: '/run/user/7' }, '/home/u', 7)).toEqual([
      'unix:///var/run/docker.sock',
      'unix:///run/user/7/docker.sock',
      'unix:///home/u/.docker/run/docker.sock',
      'unix:///home/u/.docker/desktop/docker.sock',
    ]);
    expect(runtimeEndpoints({ DOCKER_HOST: 'tcp://10.0.0.1:2375' })).toEqual(['tcp://10.0.0.1:2375']);
  });
});
