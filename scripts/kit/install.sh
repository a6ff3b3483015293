#!/bin/sh
# Installs the fedistill offline kit this file came in, without any network.
#
#   ./install.sh [--prefix DIR] [--bin-dir DIR] [--verify-only]
#
#   --prefix DIR   where the project goes (default /opt/fedistill). It must not exist, or hold an
#                  earlier kit install, which is replaced only once the new one is in place.
#   --bin-dir DIR  where the `fedistill` command is linked (default /usr/local/bin; '' for none).
#   --verify-only  check the kit and stop.
#
# First, before anything is written: every file must match SHA256SUMS, and the kit must hold no
# file that SHA256SUMS does not list. Compare SHA256SUMS's own sha256 with the one your supplier
# published (sha256sum SHA256SUMS); sbom.cdx.json lists every package (CycloneDX 1.5).
# Then it checks Node.js (20 from 20.19, or 22 and later; `NODE=/path/to/node` picks one),
# copies app/ to the prefix, links the command, and runs `fedistill --version`.
set -eu
prefix=/opt/fedistill
bin_dir=/usr/local/bin
verify_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }; prefix=$2; shift ;;
    --bin-dir) [ $# -ge 2 ] || { echo "install.sh: --bin-dir needs a folder" >&2; exit 2; }; bin_dir=$2; shift ;;
    --verify-only) verify_only=1 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
refuse() {
  echo "install.sh: REFUSED: $*" >&2
  echo "install.sh: nothing was installed" >&2
  exit 1
}
case "$prefix" in /*) ;; *) refuse "--prefix '$prefix' must be an absolute path" ;; esac
kit=$(cd "$(dirname "$0")" && pwd)
cd "$kit"
command -v sha256sum >/dev/null || refuse "sha256sum (coreutils) is not installed"
[ -f SHA256SUMS ] || refuse "SHA256SUMS is missing from $kit"

# 1. integrity: every listed file matches, and nothing is there that is not listed.
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! sha256sum --strict --quiet -c SHA256SUMS >"$tmp/check" 2>&1; then
  sed 's/^/  /' "$tmp/check" | head -20 >&2
  refuse "the kit does not match SHA256SUMS (files above)"
fi
other=$(find . ! -type d ! -type f | head -5)
[ -z "$other" ] || refuse "the kit holds links or special files, which it never ships: $other"
sed 's/^[0-9a-f]\{64\}  //' SHA256SUMS | sort >"$tmp/listed"
find . -type f ! -path ./SHA256SUMS | sed 's#^\./##' | sort >"$tmp/present"
unlisted=$(comm -23 "$tmp/present" "$tmp/listed" | head -5)
[ -z "$unlisted" ] || refuse "files not in SHA256SUMS: $unlisted"
files=$(wc -l <SHA256SUMS)
echo "ok   $files files match SHA256SUMS (sha256 of SHA256SUMS: $(sha256sum SHA256SUMS | cut -c1-64))"

# 2. the platform and Node.js
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || refuse "this kit is for Linux x86_64, not $(uname -s) $(uname -m)"
node=${NODE:-$(command -v node || true)}
[ -n "$node" ] && [ -x "$node" ] || refuse "Node.js is not installed (20.19 or later 20.x, or 22+; NODE=/path/to/node)"
node_version=$("$node" -p process.versions.node)
major=${node_version%%.*}
minor=${node_version#*.}
minor=${minor%%.*}
if ! { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; } && [ "$major" -lt 22 ]; then
  refuse "Node.js $node_version at $node is too old or unsupported (20.19+ or 22+)"
fi
echo "ok   Node.js $node_version ($node)"
[ "$verify_only" = 0 ] || exit 0

# 3. install: into a new folder beside the prefix, then swapped in.
if [ -e "$prefix" ] && [ ! -f "$prefix/.fedistill-kit" ]; then
  refuse "$prefix exists and is not an earlier fedistill kit install (no .fedistill-kit in it)"
fi
parent=$(dirname "$prefix")
mkdir -p "$parent"
new="$prefix.new.$$"
rm -rf "$new"
cp -R app "$new"
cp SHA256SUMS sbom.cdx.json "$new/"
echo "kit $(basename "$kit"), installed $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$new/.fedistill-kit"
chmod -R go-w "$new"
installed=$(NPM_CONFIG_OFFLINE=true "$node" "$new/bin/fedistill.js" --version 2>&1) || {
  rm -rf "$new"
  refuse "the copied project does not start: $installed"
}
if [ -e "$prefix" ]; then
  mv "$prefix" "$prefix.old.$$"
  mv "$new" "$prefix"
  rm -rf "$prefix.old.$$"
else
  mv "$new" "$prefix"
fi
echo "ok   fedistill $installed in $prefix"
if [ -n "$bin_dir" ]; then
  mkdir -p "$bin_dir"
  if [ -n "${NODE:-}" ]; then
    # A Node.js that is not on PATH: the command runs through it.
    printf '#!/bin/sh\nexec "%s" "%s/bin/fedistill.js" "$@"\n' "$node" "$prefix" >"$bin_dir/fedistill"
    chmod 0755 "$bin_dir/fedistill"
  else
    ln -sfn "$prefix/bin/fedistill.js" "$bin_dir/fedistill"
  fi
  echo "ok   $bin_dir/fedistill"
fi
