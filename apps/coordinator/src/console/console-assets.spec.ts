import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConsoleAssets, defaultConsoleDir } from './console-assets';

describe(ConsoleAssets.name, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-assets-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves only the files of the folder with a known type, and says when the page is missing', () => {
    fs.writeFileSync(path.join(dir, 'app.js'), 'x');
    fs.writeFileSync(path.join(dir, 'secret.key'), 'k');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'a.js'), 'y');
    const before = ConsoleAssets.load(dir);
    expect(before.built).toBe(false);
    expect(before.get('app.js')).toEqual({ type: 'text/javascript; charset=utf-8', bytes: Buffer.from('x') });
    expect(before.get('secret.key')).toBeUndefined();
    expect(before.get('sub/a.js')).toBeUndefined();
    expect(before.get('../console-assets.ts')).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
    expect(ConsoleAssets.load(dir).built).toBe(true);
    expect(ConsoleAssets.load(path.join(dir, 'absent')).built).toBe(false);
  });

  it('finds dist/console of this checkout from the source and from dist/', () => {
    const root = path.resolve(__dirname, '..', '..', '..', '..');
    expect(defaultConsoleDir()).toBe(path.join(root, 'dist', 'console'));
    expect(defaultConsoleDir(path.join(root, 'dist', 'apps', 'coordinator', 'src', 'console'))).toBe(
      path.join(root, 'dist', 'console'),
    );
  });
});
