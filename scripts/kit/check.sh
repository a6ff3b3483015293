#!/usr/bin/env bash
# CI's check of the offline install kit (run from .ci/run; about a minute, mostly the kit's build):
#
#   scripts/kit/check.sh
#
# 1. builds the kit (npm run kit) and checks its SBOM against what it holds: every package folder
#    in app/node_modules is a CycloneDX component with its version, and every component a folder;
# 2. installs it with the network cut off (a new, empty network namespace: `unshare --net`, as
#    root) and NPM_CONFIG_OFFLINE=true, then runs the installed `fedistill --help`, `pki init`,
#    `node init` and `node check` there;
# 3. proves the installer refuses a kit with one changed byte, and one with an added file, and that
#    a refused install changes nothing (no prefix made, an earlier install left as it was).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "kit check: FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /var/tmp/fedistill-kit-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

offline=(env NPM_CONFIG_OFFLINE=true)
if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
  offline=(unshare --net env NPM_CONFIG_OFFLINE=true)
  # Proof that the namespace has no network: the npm registry is unreachable from it.
  if "${offline[@]}" node -e "fetch('https://registry.npmjs.org/',{signal:AbortSignal.timeout(5000)}).then(()=>process.exit(0),()=>process.exit(1))"; then
    fail "unshare --net still reaches the npm registry"
  fi
  echo "ok   network cut off for the install (unshare --net: the npm registry is unreachable)"
else
  echo "note not root or no unshare: the install runs with NPM_CONFIG_OFFLINE=true but the network up"
fi

started=$(date +%s)
node scripts/kit/build.js --out "$work/kit.tar.gz"
mkdir "$work/unpacked"
tar -C "$work/unpacked" -xzf "$work/kit.tar.gz"
kit=$(echo "$work"/unpacked/fedistill-*-linux-x64)
[ -d "$kit" ] || fail "the tarball holds no fedistill-*-linux-x64 folder"
node - "$kit" <<'EOF'
// The SBOM names exactly the packages the kit holds, with their versions.
const fs = require('node:fs');
const path = require('node:path');
const kit = process.argv[2];
const sbom = JSON.parse(fs.readFileSync(path.join(kit, 'sbom.cdx.json'), 'utf8'));
if (sbom.bomFormat !== 'CycloneDX' || sbom.specVersion !== '1.5') throw new Error('sbom.cdx.json is not CycloneDX 1.5');
const listed = new Set(sbom.components.map((c) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`));
const held = new Set();
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === '.bin') continue;
    const full = path.join(dir, e.name);
    if (e.name.startsWith('@')) { walk(full); continue; }
    const pj = path.join(full, 'package.json');
    if (fs.existsSync(pj)) {
      const { name, version } = JSON.parse(fs.readFileSync(pj, 'utf8'));
      held.add(`${name}@${version}`);
      if (fs.existsSync(path.join(full, 'node_modules'))) walk(path.join(full, 'node_modules'));
    }
  }
})(path.join(kit, 'app', 'node_modules'));
const notListed = [...held].filter((p) => !listed.has(p));
const notHeld = [...listed].filter((p) => !held.has(p));
if (notListed.length || notHeld.length)
  throw new Error(`SBOM and kit differ: not in the SBOM ${notListed.join(', ') || '-'}; not in the kit ${notHeld.join(', ') || '-'}`);
console.log(`ok   SBOM (CycloneDX 1.5) lists exactly the kit's ${held.size} packages`);
EOF

# The install, offline, and the installed command.
prefix=$work/opt/fedistill
"${offline[@]}" "$kit/install.sh" --prefix "$prefix" --bin-dir "$work/bin" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "install.sh failed"; }
sed 's/^/     /' "$work/install.log"
fedistill=$work/bin/fedistill
"${offline[@]}" "$fedistill" --help >"$work/help.txt" 2>&1 || fail "the installed fedistill --help failed: $(cat "$work/help.txt")"
grep -q '^Usage: fedistill' "$work/help.txt" || fail "the installed fedistill --help printed no usage"
"${offline[@]}" "$fedistill" pki init --out "$work/pki" --host coordinator.example.org >/dev/null
"${offline[@]}" "$fedistill" node init --dir "$work/node" --coordinator coordinator.example.org:7443 \
  --ca "$work/pki/ca.crt" --site site-a >/dev/null
"${offline[@]}" "$fedistill" node check --dir "$work/node" >"$work/check.log" 2>&1 \
  || { cat "$work/check.log" >&2; fail "node check failed in the installed kit"; }
echo "ok   installed offline: fedistill --help, pki init, node init, node check"

# Tampering: one changed byte, then one added file. Each is refused and changes nothing.
before=$(find "$prefix" -type f -exec sha256sum {} + | sort | sha256sum)
cp -a "$kit" "$work/tampered"
printf ' ' >>"$work/tampered/app/dist/apps/cli/src/main.js"
if "$work/tampered/install.sh" --prefix "$prefix" --bin-dir '' >"$work/tamper.log" 2>&1; then
  fail "install.sh accepted a kit with a changed file"
fi
grep -q 'app/dist/apps/cli/src/main.js: FAILED' "$work/tamper.log" || fail "the refusal does not name the changed file: $(cat "$work/tamper.log")"
grep -q 'REFUSED' "$work/tamper.log" || fail "the refusal does not say REFUSED"
"$work/tampered/install.sh" --prefix "$work/never" --bin-dir '' >/dev/null 2>&1 && fail "a tampered kit installed into a new prefix"
[ ! -e "$work/never" ] || fail "a refused install created its prefix"
echo "ok   a changed byte is refused: $(grep -m1 FAILED "$work/tamper.log" | sed 's/^ *//')"
rm -rf "$work/tampered"
cp -a "$kit" "$work/tampered"
echo "module.exports = 1;" >"$work/tampered/app/node_modules/extra.js"
if "$work/tampered/install.sh" --prefix "$prefix" --bin-dir '' >"$work/extra.log" 2>&1; then
  fail "install.sh accepted a kit with an added file"
fi
grep -q 'files not in SHA256SUMS: app/node_modules/extra.js' "$work/extra.log" || fail "the refusal does not name the added file: $(cat "$work/extra.log")"
echo "ok   an added file is refused: app/node_modules/extra.js"
[ "$(find "$prefix" -type f -exec sha256sum {} + | sort | sha256sum)" = "$before" ] \
  || fail "a refused install changed the earlier install"
echo "ok   refused installs left the earlier install unchanged"
echo "kit check passed in $(($(date +%s) - started)) s"
