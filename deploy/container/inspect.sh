#!/usr/bin/env bash
# Inspects a built fedistill image without running a container (build.sh runs it after the build):
#
#   deploy/container/inspect.sh IMAGE VERSION
#
# Its configuration (inspect-image.js: user, entrypoint, HEALTHCHECK, labels, environment, ports)
# and size; then, in its files: no npm, compiler or development package, the native modules and
# the SBOM present, the state folders owned by 10001, nothing world-writable under /opt/fedistill;
# and `fedistill --version` as uid 10001 through `buildah run` (chroot isolation, which works
# where podman cannot start containers). Needs root and buildah. Exits 1 with a FAIL line.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: inspect.sh IMAGE VERSION" >&2; exit 2; }
image=$1
version=$2
cd "$(dirname "$0")/../.."
fail() { echo "inspect.sh: FAIL: $*" >&2; exit 1; }
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
work=$(mktemp -d /var/tmp/fedistill-inspect.XXXXXX)
c=
cleanup() {
  [ -z "$c" ] || buildah rm "$c" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

buildah inspect --type image "$image" >"$work/image.json" || fail "no image $image"
node deploy/container/inspect-image.js "$work/image.json" "$version"
echo "ok   size $(buildah images --format '{{.Size}}' "$image" | head -1)"
c=$(buildah from --pull=never "$image")
mnt=$(buildah mount "$c")
absent=(usr/local/bin/npm usr/local/lib/node_modules/npm usr/bin/g++ usr/bin/make usr/local/include/node
  opt/fedistill/node_modules/typescript opt/fedistill/node_modules/jest opt/fedistill/node_modules/@swc/core
  opt/fedistill/node_modules/onnxruntime-node/bin/napi-v6/win32 opt/fedistill/node_modules/onnxruntime-node/bin/napi-v6/darwin)
for p in "${absent[@]}"; do [ ! -e "$mnt/$p" ] || fail "the image holds /$p (build-only or development files)"; done
present=(opt/fedistill/node_modules/better-sqlite3/build/Release/better_sqlite3.node
  opt/fedistill/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
  opt/fedistill/dist/apps/cli/src/main.js opt/fedistill/sbom.cdx.json usr/bin/tini bin/sh)
for p in "${present[@]}"; do [ -e "$mnt/$p" ] || fail "the image lacks /$p"; done
for d in var/lib/fedistill/coordinator var/lib/fedistill/node; do
  [ "$(stat -c %u:%g "$mnt/$d")" = 10001:10001 ] || fail "/$d is not owned by 10001:10001"
done
# Links are mode 0777 by nature (node_modules/.bin): only files and folders count.
writable=$(find "$mnt/opt/fedistill" ! -type l -perm -o+w -print -quit)
[ -z "$writable" ] || fail "/opt/fedistill has world-writable files: ${writable#"$mnt"}"
node -e "const b = require('$mnt/opt/fedistill/sbom.cdx.json');
  if (b.bomFormat !== 'CycloneDX' || b.specVersion !== '1.5' || !(b.components.length > 0)) process.exit(1);
  console.log('ok   /opt/fedistill/sbom.cdx.json: CycloneDX 1.5, ' + b.components.length + ' components')" \
  || fail "/opt/fedistill/sbom.cdx.json is not a CycloneDX 1.5 SBOM"
echo "ok   filesystem: no npm, compiler or dev packages; native modules present; state folders 10001:10001"
buildah umount "$c" >/dev/null
buildah run --user 10001:10001 "$c" -- fedistill --version >"$work/version.txt"
[ "$(cat "$work/version.txt")" = "$version" ] || fail "fedistill --version in the image printed '$(cat "$work/version.txt")', not $version"
echo "ok   fedistill --version as uid 10001 (buildah run): $version"
