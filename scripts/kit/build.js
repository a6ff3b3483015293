'use strict';
// The offline install kit: `npm run kit -- --out fedistill-0.1.0-linux-x64.tar.gz`.
//
// Writes a tarball with one folder, fedistill-VERSION-linux-x64/, holding
//   app/            the built project (bin/, dist/apps, dist/libs, data/, examples/, package.json,
//                   package-lock.json) and its production node_modules for linux-x64, copied from
//                   this checkout's node_modules (after `npm ci`: the native modules are the ones
//                   built here) and checked against package-lock.json package by package;
//   sbom.cdx.json   a CycloneDX 1.5 SBOM of app/, by npm's own `npm sbom` (no extra dependency);
//   install.sh      the one-command installer: checks every checksum first, refuses unlisted files;
//   SHA256SUMS      sha256 of every other file, in `sha256sum -c` format.
// The target needs Node.js 20 (>= 20.19) or 22+, and no network: nothing is downloaded.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const usage = 'usage: npm run kit -- --out FILE.tar.gz';

class KitError extends Error {}

function parseArgs(argv) {
  let out;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--out' && i + 1 < argv.length) out = argv[++i];
    else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else throw new KitError(`unknown argument '${argv[i]}' (${usage})`);
  }
  if (!out) throw new KitError(`--out is required (${usage})`);
  if (!out.endsWith('.tar.gz')) throw new KitError(`--out '${out}' must end in .tar.gz`);
  const dir = path.dirname(path.resolve(out));
  if (!fs.existsSync(dir)) throw new KitError(`--out '${out}': folder ${dir} does not exist`);
  return { out: path.resolve(out) };
}

/** The production packages of package-lock.json (its `packages` without `dev: true`). */
function productionPackages(lock) {
  if (lock.lockfileVersion < 2 || !lock.packages)
    throw new KitError('package-lock.json has no "packages" (lockfileVersion 2 or 3 needed)');
  const out = [];
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || meta.dev) continue;
    out.push({ key, version: meta.version, optional: Boolean(meta.optional || meta.devOptional) });
  }
  return out;
}

/** Copies each production package, refusing a node_modules that differs from the lock. */
function copyNodeModules(appDir) {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const problems = [];
  let copied = 0;
  for (const pkg of productionPackages(lock)) {
    const src = path.join(root, pkg.key);
    const manifest = path.join(src, 'package.json');
    if (!fs.existsSync(manifest)) {
      // Optional packages for other platforms (for example @esbuild/darwin-arm64) are not installed.
      if (!pkg.optional) problems.push(`${pkg.key} is missing`);
      continue;
    }
    const installed = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
    if (installed !== pkg.version) problems.push(`${pkg.key} is ${installed}, the lock says ${pkg.version}`);
    // Nested packages (node_modules/a/node_modules/b) come with their parent's folder.
    if (pkg.key.lastIndexOf('node_modules/') === 0) {
      fs.cpSync(src, path.join(appDir, pkg.key), { recursive: true, verbatimSymlinks: true });
      copied += 1;
    }
  }
  if (problems.length > 0)
    throw new KitError(`node_modules does not match package-lock.json (run npm ci): ${problems.join('; ')}`);
  return copied;
}

/** Drops what linux-x64 never loads: other platforms' ONNX Runtime, better-sqlite3's build tree. */
function pruneForLinuxX64(appDir) {
  const ort = path.join(appDir, 'node_modules/onnxruntime-node/bin/napi-v6');
  for (const platform of fs.readdirSync(ort))
    if (platform !== 'linux') fs.rmSync(path.join(ort, platform), { recursive: true });
  for (const arch of fs.readdirSync(path.join(ort, 'linux')))
    if (arch !== 'x64') fs.rmSync(path.join(ort, 'linux', arch), { recursive: true });
  const sqlite = path.join(appDir, 'node_modules/better-sqlite3');
  const binding = path.join(sqlite, 'build/Release/better_sqlite3.node');
  if (!fs.existsSync(binding)) throw new KitError(`${binding} is missing: run npm ci`);
  const keep = fs.readFileSync(binding);
  for (const dir of ['build', 'deps', 'src'])
    fs.rmSync(path.join(sqlite, dir), { recursive: true, force: true });
  fs.mkdirSync(path.dirname(binding), { recursive: true });
  fs.writeFileSync(binding, keep, { mode: 0o755 });
}

function copyProject(appDir) {
  const main = path.join(root, 'dist/apps/cli/src/main.js');
  if (!fs.existsSync(main)) throw new KitError('dist/ is not built (npm run build)');
  for (const p of ['package-lock.json', 'README.md', 'bin', 'dist/apps', 'dist/libs', 'data', 'examples'])
    fs.cpSync(path.join(root, p), path.join(appDir, p), { recursive: true });
  // The console's bundle (scripts/build-console.js), which the coordinator serves, where it is built.
  if (fs.existsSync(path.join(root, 'dist/console')))
    fs.cpSync(path.join(root, 'dist/console'), path.join(appDir, 'dist/console'), { recursive: true });
  // The kit's package.json names what the kit holds: no development dependencies, no scripts
  // (`prepare` would rebuild with tools the kit does not carry).
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  delete manifest.devDependencies;
  delete manifest.scripts;
  fs.writeFileSync(path.join(appDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

function* files(dir, base = dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(full, base);
    else if (e.isFile()) yield path.relative(base, full);
    else
      throw new KitError(`${full} is neither a file nor a folder (the kit holds neither links nor devices)`);
  }
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function writeSbom(kitDir) {
  const json = execFileSync(
    'npm',
    ['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'application', '--omit', 'dev'],
    {
      cwd: path.join(kitDir, 'app'),
      env: { ...process.env, NPM_CONFIG_OFFLINE: 'true' },
      maxBuffer: 64 << 20,
    },
  ).toString('utf8');
  const sbom = JSON.parse(json);
  if (sbom.bomFormat !== 'CycloneDX' || sbom.specVersion !== '1.5')
    throw new KitError(`npm sbom wrote ${sbom.bomFormat} ${sbom.specVersion}, not CycloneDX 1.5`);
  fs.writeFileSync(path.join(kitDir, 'sbom.cdx.json'), `${JSON.stringify(sbom, null, 2)}\n`);
  return sbom.components.length;
}

function main() {
  const started = Date.now();
  const { out } = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new KitError(
      `the kit carries this machine's native modules: build it on linux-x64, not ${process.platform}-${process.arch}`,
    );
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  execFileSync(process.execPath, [path.join(root, 'scripts/build.js')], { stdio: 'inherit' });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-kit-'));
  try {
    const name = `fedistill-${version}-linux-x64`;
    const kitDir = path.join(stage, name);
    const appDir = path.join(kitDir, 'app');
    fs.mkdirSync(appDir, { recursive: true });
    copyProject(appDir);
    const packages = copyNodeModules(appDir);
    pruneForLinuxX64(appDir);
    const components = writeSbom(kitDir);
    fs.copyFileSync(path.join(__dirname, 'install.sh'), path.join(kitDir, 'install.sh'));
    fs.chmodSync(path.join(kitDir, 'install.sh'), 0o755);
    const listed = [...files(kitDir)].sort();
    const sums = listed.map((f) => `${sha256(path.join(kitDir, f))}  ${f}\n`).join('');
    fs.writeFileSync(path.join(kitDir, 'SHA256SUMS'), sums);
    execFileSync('tar', [
      '-C',
      stage,
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--sort=name',
      '-czf',
      out,
      name,
    ]);
    const size = (fs.statSync(out).size / 2 ** 20).toFixed(1);
    process.stdout.write(
      `kit ${out}: ${size} MiB, ${listed.length} files checksummed, ${packages} top-level packages, ` +
        `SBOM ${components} components, in ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
        `sha256 ${sha256(out)}\n`,
    );
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(
    `kit: ${err instanceof KitError ? err.message : err && err.stack ? err.stack : String(err)}\n`,
  );
  process.exit(1);
}
