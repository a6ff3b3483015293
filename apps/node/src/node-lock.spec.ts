import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { acquireNodeLock, LOCK_FILE, NodeLockedError } from './node-lock';

describe(acquireNodeLock.name, () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-lock-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const dirs = (n: number) =>
    Array.from({ length: n }, (_v, i) => fs.mkdirSync(path.join(root, `site-${i}`), { recursive: true })!);

  it('holds many locks in one process with one exit listener (no EventEmitter leak warning), each released once', () => {
    const before = process.listenerCount('exit');
    const locks = dirs(25).map((d) => acquireNodeLock(d));
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(before + 1);
    expect(locks.every((l) => fs.existsSync(l.file))).toBe(true);
    // A second holder in the same process is refused while the first holds it.
    expect(() => acquireNodeLock(path.dirname(locks[0]!.file))).toThrow(NodeLockedError);
    for (const l of locks) l.release();
    for (const l of locks) l.release(); // harmless
    expect(locks.some((l) => fs.existsSync(l.file))).toBe(false);
    // Free again: taken and released once more.
    acquireNodeLock(path.dirname(locks[0]!.file)).release();
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(before + 1);
  });

  it('releases every lock a process still holds when it exits', () => {
    const [a, b, c] = dirs(3);
    // The module as the child runs it: node-lock.ts compiled to CommonJS (it imports only Node's).
    const lock = path.join(root, 'node-lock.js');
    const source = fs.readFileSync(path.join(__dirname, 'node-lock.ts'), 'utf8');
    fs.writeFileSync(
      lock,
      ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      }).outputText,
    );
    const script =
      `const { acquireNodeLock } = require(${JSON.stringify(lock)});` +
      `for (const d of ${JSON.stringify([a, b, c])}) acquireNodeLock(d);` +
      `process.stdout.write(String(require('node:fs').readdirSync(${JSON.stringify(a)}).length));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out).toBe('1'); // the lock file existed while the process ran
    for (const d of [a, b, c]) expect(fs.existsSync(path.join(d!, LOCK_FILE))).toBe(false);
  });
});
