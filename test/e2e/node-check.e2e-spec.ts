import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { cli } from './support/processes';

/**
 * `fedistill node check` and `node start` read node.yaml's data: and teachers: against the files
 * before the node joins anything: a wrong label column stops the node at start, naming it,
 * instead of surfacing as declined rounds after it joined a federation (issue 18, item 3).
 */
describe('node check, and node start checking its files first', () => {
  let root: string;
  let dir: string;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-node-check-'));
    expect((await cli(['pki', 'init', '--out', path.join(root, 'pki')])).code).toBe(0);
    dir = path.join(root, 'node');
    const init = await cli([
      'node',
      'init',
      '--dir',
      dir,
      '--coordinator',
      '127.0.0.1:9',
      '--ca',
      path.join(root, 'pki', 'ca.crt'),
      '--site',
      'st-marys',
    ]);
    expect(init.code).toBe(0);
    const rows = Array.from({ length: 40 }, (_, i) => `${i},${(i * 7) % 5},${i % 2}`);
    fs.writeFileSync(path.join(dir, 'records.csv'), ['age,size,outcome', ...rows].join('\n') + '\n');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const configure = (labelColumn: string) => {
    const file = path.join(dir, 'node.yaml');
    const config = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    config.data = { train: 'records.csv', labelColumn };
    config.teachers = { count: 4 };
    fs.writeFileSync(file, stringify(config));
  };

  it('refuses to start with a wrong label column, naming it, and node check says the same (exit 1)', async () => {
    configure('diagnosis');
    const start = await cli(['node', 'start', '--dir', dir]);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain('error: node not started: data: ');
    expect(start.stderr).toContain("label column 'diagnosis' not found in columns age, size, outcome");
    // Refused before anything else: this node is not even enrolled yet, which start would say next.
    expect(start.stderr).not.toMatch(/enrol/);
    const check = await cli(['node', 'check', '--dir', dir]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^fail data +.*label column 'diagnosis' not found/m);
    expect(check.stderr).toContain('node check: 1 of 1 checks failed');
  });

  it('passes once node.yaml names the right column (exit 0)', async () => {
    configure('outcome');
    const check = await cli(['node', 'check', '--dir', dir, '--json']);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({
      ok: true,
      checks: [
        { name: 'data', status: 'ok' },
        { name: 'teachers', status: 'ok', reason: '4 teachers on 32 training records (8 each)' },
      ],
    });
  });
});
