import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NODE_FILES } from './node-config';
import { siteKeyFile } from './site-key-file';

describe(siteKeyFile.name, () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-keyfile-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads DIR/site.key when no credentials were passed', () => {
    expect(siteKeyFile('/srv/node', {})).toBe(path.join('/srv/node', 'site.key'));
  });

  it('prefers the site.key credential systemd passed in $CREDENTIALS_DIRECTORY', () => {
    fs.writeFileSync(path.join(root, 'site.key'), '{}');
    expect(siteKeyFile('/srv/node', { CREDENTIALS_DIRECTORY: root })).toBe(path.join(root, 'site.key'));
  });

  it('is the credential name deploy/systemd/fedistill-node.service loads', () => {
    const unit = fs.readFileSync(
      path.join(__dirname, '../../../deploy/systemd/fedistill-node.service'),
      'utf8',
    );
    const names = [...unit.matchAll(/^LoadCredential=([^:\n]+):/gm)].map((m) => m[1]);
    expect(names).toEqual([NODE_FILES.keys]);
  });

  it('falls back to DIR/site.key when the credentials hold no site.key', () => {
    fs.writeFileSync(path.join(root, 'other.token'), 'x');
    expect(siteKeyFile('/srv/node', { CREDENTIALS_DIRECTORY: root })).toBe(
      path.join('/srv/node', 'site.key'),
    );
  });
});
