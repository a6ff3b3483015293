import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildProgram, runCli, unknownCommandIn } from './main';

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

describe(runCli.name, () => {
  it('exits 2 for usage errors the argument parser catches, naming the problem', async () => {
    const missing = await run(['coordinator', 'token', 'create', '--admin-url', 'http://127.0.0.1:1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: required option '--site <name>' not specified");
    const unknownOption = await run(['pki', 'init', '--out', 'x', '--colour', 'blue']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("error: unknown option '--colour'");
    const missingArgument = await run(['coordinator', 'site', 'revoke']);
    expect(missingArgument.code).toBe(2);
    expect(missingArgument.stderr).toContain("error: missing required argument 'name'");
    // A command that needs a subcommand, given none: its help on stderr, and a usage error.
    const bare = await run(['coordinator']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: fedistill coordinator');
  });

  it('names an unknown command and exits 2, also with --help after it and below a known command', async () => {
    for (const args of [['frobnicate'], ['frobnicate', '--help'], ['coordinator', 'frobnicate', '--help']]) {
      const res = await run(args);
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.stderr).toContain("error: unknown command 'frobnicate'");
      expect(res.stdout).toBe('');
    }
  });

  it('still exits 0 for --help and --version, and for help on a known command', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: fedistill');
    expect((await run(['--version'])).stdout).toBe('0.1.0\n');
    const sub = await run(['coordinator', 'token', 'create', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('Usage: fedistill coordinator token create');
    expect((await run(['help', 'coordinator'])).code).toBe(0);
  });

  describe('coordinator token create', () => {
    let server: http.Server;
    let url: string;
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const { site } = JSON.parse(body) as { site: string };
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              token: `fdt_${site}_0123456789`,
              site,
              expiresAtIso: '2026-12-03T00:00:00.000Z',
            }),
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('prints the token alone on stdout (so TOKEN=$(...) works) and the note on stderr', async () => {
      const flags = ['--admin-url', url, '--admin-token', 'x'.repeat(32)];
      const res = await run(['coordinator', 'token', 'create', '--site', 'st-marys', ...flags]);
      expect(res.code).toBe(0);
      expect(res.stdout).toBe('fdt_st-marys_0123456789\n');
      expect(res.stderr).toBe("(one-time token for site 'st-marys', expires 2026-12-03T00:00:00.000Z)\n");
      const json = await run(['coordinator', 'token', 'create', '--site', 'st-marys', '--json', ...flags]);
      expect(JSON.parse(json.stdout)).toEqual({
        token: 'fdt_st-marys_0123456789',
        site: 'st-marys',
        expiresAt: '2026-12-03T00:00:00.000Z',
      });
      expect(json.stderr).toBe('');
    });
  });
});

describe(unknownCommandIn.name, () => {
  const sut = (args: string[]) => {
    const found = unknownCommandIn(buildProgram(), args);
    return found && { parent: found.parent.name(), word: found.word };
  };

  it('finds the first word that names no subcommand, skipping options and their values', () => {
    expect(sut(['frobnicate'])).toEqual({ parent: 'fedistill', word: 'frobnicate' });
    expect(sut(['coordinator', 'token', 'frobnicate'])).toEqual({ parent: 'token', word: 'frobnicate' });
    expect(sut(['coordinator', 'token', 'create', '--site', 'x'])).toBeUndefined();
    // A command's own arguments and option values are not commands.
    expect(sut(['coordinator', 'site', 'revoke', 'frobnicate'])).toBeUndefined();
    expect(sut(['help', 'frobnicate'])).toBeUndefined();
    expect(sut([])).toBeUndefined();
  });
});
