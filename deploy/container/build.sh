#!/usr/bin/env bash
# Builds the fedistill image (the repository's Dockerfile) without a Docker daemon, then checks it.
#
#   deploy/container/build.sh [--no-run] [--save FILE.tar]
#
# 1. base images, since no image registry is reachable: a Debian root filesystem made by
#    debootstrap (minbase, plus ca-certificates and tini, upgraded from bookworm-updates and
#    bookworm-security) with this machine's Node.js 20 binary copied in at /usr/local/bin/node:
#    Debian bookworm's own nodejs is 18. That is localhost/fedistill-base:SUITE; the build stage's
#    localhost/fedistill-build-base:SUITE adds this machine's npm, Node's headers, python3, make
#    and g++ (to compile better-sqlite3).
# 2. `npm run build` (dist/), then `buildah build` of the Dockerfile, tagged fedistill:VERSION
#    (package.json's version, as deploy/compose and deploy/kubernetes expect).
# 3. inspection (inspect.sh), which needs no container runtime: user 10001:10001, the
#    entrypoint, the HEALTHCHECK, the OCI labels (version, source, revision), the size; then, in
#    the image's filesystem: no npm, no compiler, no development package, the native modules and
#    the SBOM present, the state folders owned by 10001.
# 4. unless --no-run, run-checks.sh: runs the image with podman (`--help`, `pki init`, the
#    coordinator with a read-only root filesystem, no capabilities and no network until its
#    HEALTHCHECK reports healthy and /healthz answers, then SIGTERM). Where podman cannot start
#    containers, it says so and runs the same through `buildah run` (chroot isolation);
#    FEDISTILL_REQUIRE_RUN=1 makes that a failure.
#
# Needs root, buildah, debootstrap and (for step 4) podman: Debian's packages of those names.
# Settings (environment): DEBIAN_SUITE (bookworm), DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR (the
# first deb.debian.org-style URIs in /etc/apt/sources.list*, else deb.debian.org), IMAGE
# (fedistill:VERSION), BUILDAH_ISOLATION (chroot: works without user namespaces), STORAGE_DRIVER
# (buildah's; try vfs where overlay mounts fail). Nothing is cached between runs: the base images
# are rebuilt every time (delete them with `buildah rmi`).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

run_containers=1
save=
while [ $# -gt 0 ]; do
  case "$1" in
    --no-run) run_containers=0 ;;
    --save)
      [ $# -ge 2 ] || { echo "build.sh: --save needs a file name" >&2; exit 2; }
      save=$2
      shift
      ;;
    -h | --help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

fail() { echo "build.sh: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (buildah and debootstrap need it here)"
for tool in buildah debootstrap node npm tar; do
  command -v "$tool" >/dev/null || fail "'$tool' is not installed (apt-get install buildah debootstrap)"
done

started=$(date +%s)
step_started=$started
step() {
  local now
  now=$(date +%s)
  [ "$step_started" = "$started" ] || echo "   ($((now - step_started)) s)"
  step_started=$now
  echo "== $*"
}

suite=${DEBIAN_SUITE:-bookworm}
apt_uri() { # the first URIs:/deb line whose path ends in $1 (debian or debian-security)
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE 'https?://[^ ]+/'"$1"'/?( |$)' | head -1 | tr -d ' ' | sed 's#/$##' || true
}
mirror=${DEBIAN_MIRROR:-$(apt_uri debian)}
mirror=${mirror:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-$(apt_uri debian-security)}
security=${security:-http://deb.debian.org/debian-security}
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}

version=$(node -p "require('./package.json').version")
image=${IMAGE:-fedistill:$version}
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD 2>/dev/null || revision="$revision-dirty"
base=localhost/fedistill-base:$suite
build_base=localhost/fedistill-build-base:$suite

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" -p 'process.versions.node')
[ "${node_version%%.*}" = 20 ] || fail "this machine's Node.js is $node_version; the image needs 20 (package.json engines)"
npm_dir=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
[ -f "$npm_dir/package.json" ] || fail "cannot find npm's folder (looked at $npm_dir)"
node_headers=$(readlink -f "$(dirname "$node_bin")/../include/node")
[ -f "$node_headers/node_api.h" ] || fail "Node's headers are not at $node_headers (the nodejs package has them)"

work=$(mktemp -d /var/tmp/fedistill-image.XXXXXX)
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

step "base: debootstrap $suite (minbase) from $mirror"
debootstrap --variant=minbase --include=ca-certificates,tini "$suite" "$work/rootfs" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
cat >"$work/rootfs/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
install -m 0755 "$node_bin" "$work/rootfs/usr/local/bin/node"
rm -rf "$work/rootfs/var/cache/apt/"*.bin "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/usr/share/man" \
  "$work/rootfs/usr/share/info" "$work/rootfs/var/log/"*.log
tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" .
rm -rf "$work/rootfs"

step "base: $base (Node.js $node_version from $node_bin; updates from $suite-updates and $suite-security)"
c=$(buildah from scratch)
containers+=("$c")
buildah add --quiet "$c" "$work/rootfs.tar" / >/dev/null
rm -f "$work/rootfs.tar"
buildah run "$c" -- sh -c 'apt-get update -qq && apt-get upgrade -y -qq >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/* && node --version >/dev/null'
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/sh \
  --label org.opencontainers.image.description="Debian $suite minbase (debootstrap, $mirror) with Node.js $node_version" "$c"
buildah commit --quiet --format docker --rm "$c" "$base" >/dev/null

step "build base: $build_base (npm $(npm --version) with this machine's registry settings, Node's headers, python3, make, g++)"
c=$(buildah from "$base")
containers+=("$c")
buildah run "$c" -- sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*'
buildah copy --quiet "$c" "$npm_dir" /usr/local/lib/node_modules/npm >/dev/null
buildah copy --quiet "$c" "$node_headers" /usr/local/include/node >/dev/null
buildah run "$c" -- ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
# The build stage reaches the npm registry the way this machine does: its registry and, where it
# trusts its own CA bundle (a TLS-inspecting proxy, a site's registry mirror), that bundle. Only the
# build base holds them; the image does not.
{
  echo "registry=$(npm config get registry)"
  echo "nodedir=/usr/local"
  echo "update-notifier=false"
} >"$work/npmrc"
cafile=$(npm config get cafile)
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ -f "$cafile" ]; then
  buildah copy --quiet "$c" "$cafile" /usr/local/etc/npm-ca.crt >/dev/null
  echo "cafile=/usr/local/etc/npm-ca.crt" >>"$work/npmrc"
fi
buildah copy --quiet "$c" "$work/npmrc" /usr/local/etc/npmrc >/dev/null
buildah commit --quiet --format docker --rm "$c" "$build_base" >/dev/null

step "npm run build"
npm run --silent build

step "image: $image (buildah build, isolation $BUILDAH_ISOLATION)"
buildah build --format docker --layers=false --pull=never \
  --build-arg BASE_IMAGE="$base" --build-arg BUILD_IMAGE="$build_base" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -f Dockerfile -t "$image" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "buildah build failed"; }

step "inspect: $image"
deploy/container/inspect.sh "$image" "$version"

if [ -n "$save" ]; then
  # A Docker archive: `docker load` and `podman load` both read it, and it keeps the HEALTHCHECK
  # (an OCI image configuration has no field for one).
  step "save: $save (docker-archive)"
  rm -f "$save"
  buildah push --quiet "$image" "docker-archive:$save:$image" >/dev/null
  sha256sum "$save"
fi

if [ "$run_containers" = 1 ]; then
  step "run: podman"
  FEDISTILL_IMAGE=$image deploy/container/run-checks.sh
fi

step "done in $(($(date +%s) - started)) s"
