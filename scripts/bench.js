'use strict';
// `npm run bench -- <name> [args...]` runs dist/bench/<name>.js (compiled from bench/<name>.ts).
// Each benchmark prints its figures and, as its last line, one JSON object.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const [name, ...args] = process.argv.slice(2);
const benchDir = path.join(__dirname, '..', 'bench');
const available = fs.existsSync(benchDir)
  ? fs
      .readdirSync(benchDir)
      .filter((f) => f.endsWith('.ts') && !f.includes('.spec.'))
      .map((f) => f.slice(0, -3))
  : [];
if (!name || !available.includes(name)) {
  process.stderr.write(
    `${name ? `unknown benchmark '${name}'. ` : ''}usage: npm run bench -- <name> [args]\navailable: ${available.join(', ') || '(none)'}\n`,
  );
  process.exit(2);
}
const script = path.join(__dirname, '..', 'dist', 'bench', `${name}.js`);
const res = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' });
process.exit(res.status ?? 1);
