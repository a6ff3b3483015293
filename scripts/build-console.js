'use strict';
// Bundles the dashboard (apps/console, Preact + uPlot from node_modules) into dist/console with
// esbuild: one script, one stylesheet and the page, served by the coordinator on its admin port.
// Nothing is fetched at run time.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'apps', 'console');
const out = path.join(root, 'dist', 'console');

async function buildConsole() {
  const esbuild = require('esbuild');
  // Built beside, then swapped in: a coordinator starting meanwhile never sees half a folder.
  const next = `${out}.next-${process.pid}`;
  fs.rmSync(next, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: { app: path.join(src, 'src', 'main.tsx') },
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'iife',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: next,
    logLevel: 'warning',
    tsconfig: path.join(src, 'tsconfig.json'),
  });
  fs.copyFileSync(path.join(src, 'index.html'), path.join(next, 'index.html'));
  const old = `${out}.old-${process.pid}`;
  if (fs.existsSync(out)) fs.renameSync(out, old);
  fs.renameSync(next, out);
  fs.rmSync(old, { recursive: true, force: true });
  return fs.readdirSync(out).length;
}

module.exports = { buildConsole };

if (require.main === module) {
  buildConsole().then(
    (n) => process.stdout.write(`built the console (${n} files) into dist/console\n`),
    (err) => {
      process.stderr.write(`console build failed: ${err && err.stack ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
