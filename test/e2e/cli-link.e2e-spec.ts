import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN } from './support/processes';

/**
 * The `fedistill` command runs through a link with another name than bin/fedistill.js: npm's global
 * bin link, /usr/local/bin/fedistill in the container image, the offline kit's `--bin-dir` link.
 * (It once printed nothing there: the CLI ran only when process.argv[1] ended in fedistill.js.)
 */
describe('fedistill through a link', () => {
  const version = (
    JSON.parse(fs.readFileSync(path.join(BIN, '..', '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-link-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs as `fedistill`, a link to bin/fedistill.js', () => {
    const link = path.join(dir, 'fedistill');
    fs.symlinkSync(BIN, link);
    const run = spawnSync(process.execPath, [link, '--version'], { encoding: 'utf8' });
    expect({ status: run.status, out: run.stdout.trim() }).toEqual({ status: 0, out: version });
  });
});
