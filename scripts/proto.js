'use strict';
// `npm run proto` regenerates libs/wire/src/gen from proto/ with buf + ts-proto (both from npm,
// no download). `npm run proto -- --check` (CI) regenerates into a temporary folder and fails
// when the committed code differs from what proto/ produces.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const genRel = path.join('libs', 'wire', 'src', 'gen');
const buf = path.join(root, 'node_modules', '.bin', 'buf');

function listFiles(dir, base = dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

function generate(outBase) {
  execFileSync(buf, ['lint'], { cwd: root, stdio: 'inherit' });
  execFileSync(buf, ['generate', '--output', outBase], { cwd: root, stdio: 'inherit' });
}

if (process.argv.includes('--check')) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-proto-'));
  generate(tmp);
  const fresh = path.join(tmp, genRel);
  const committed = path.join(root, genRel);
  const names = new Set([...listFiles(fresh), ...listFiles(committed)]);
  const stale = [...names].filter((n) => {
    const a = path.join(fresh, n);
    const b = path.join(committed, n);
    return !fs.existsSync(a) || !fs.existsSync(b) || !fs.readFileSync(a).equals(fs.readFileSync(b));
  });
  fs.rmSync(tmp, { recursive: true, force: true });
  if (stale.length > 0) {
    process.stderr.write(
      `generated wire code is out of date with proto/: ${stale.join(', ')}\nrun \`npm run proto\` and commit the result\n`,
    );
    process.exit(1);
  }
  process.stdout.write('generated wire code matches proto/\n');
} else {
  fs.rmSync(path.join(root, genRel), { recursive: true, force: true });
  generate(root);
  process.stdout.write(`regenerated ${genRel}\n`);
}
