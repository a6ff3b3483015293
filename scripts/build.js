'use strict';
// Compiles apps/ and libs/ (TypeScript) into dist/ with SWC, rewriting the
// `@fedistill/<lib>` path aliases into relative requires. Type checking is a
// separate step (`npm run typecheck`); this only emits JavaScript, fast.
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');
const { swcOptions } = require('../swc.config');
const { buildConsole } = require('./build-console');

const root = path.resolve(__dirname, '..');
const outRoot = path.join(root, 'dist');
// test/fuzz: the fuzz surfaces, which bench/fuzz.ts runs (their specs are not built);
// test/e2e/support: the wire sites and coordinator process that bench/load-wire.ts drives.
const sources = ['apps', 'libs', 'bench', 'test/fuzz', 'test/e2e/support'];

function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue;
      // The dashboard runs in the browser: esbuild bundles it (build-console.js), not SWC.
      if (full === path.join(root, 'apps', 'console')) continue;
      yield* walk(full);
    } else if (
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.spec.ts') &&
      !entry.name.endsWith('.d.ts')
    ) {
      yield full;
    }
  }
}

async function main() {
  const started = Date.now();
  const options = swcOptions({ paths: true });
  let count = 0;
  const jobs = [];
  for (const src of sources) {
    const dir = path.join(root, src);
    if (!fs.existsSync(dir)) continue;
    for (const file of walk(dir)) {
      const rel = path.relative(root, file);
      const out = path.join(outRoot, rel.replace(/\.ts$/, '.js'));
      jobs.push(
        swc.transformFile(file, { ...options, filename: file, outputPath: out }).then((res) => {
          fs.mkdirSync(path.dirname(out), { recursive: true });
          const mapName = path.basename(out) + '.map';
          fs.writeFileSync(out, `${res.code}\n//# sourceMappingURL=${mapName}\n`);
          if (res.map) fs.writeFileSync(out + '.map', res.map);
          count += 1;
        }),
      );
    }
  }
  jobs.push(buildConsole());
  await Promise.all(jobs);
  process.stdout.write(`built ${count} files and the console into dist/ in ${Date.now() - started} ms\n`);
}

main().catch((err) => {
  process.stderr.write(`build failed: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(1);
});
