#!/usr/bin/env bash
# Runs the fedistill image: `--help`, `pki init`, then the coordinator (SQLite) until the image's
# own HEALTHCHECK script reports it healthy and /healthz answers 200, then stops it with SIGTERM
# and checks that it stopped cleanly (its runtime file removed).
#
#   FEDISTILL_IMAGE=fedistill:0.1.0 deploy/container/run-checks.sh
#
# With podman, as deploy/compose runs it: uid 10001, read-only root filesystem, no capabilities,
# no-new-privileges, a tmpfs /tmp, no network. Where podman cannot start a container (this
# project's machines: the sandbox refuses runc's setrlimit), it says why and falls back to
# `buildah run` with chroot isolation: the image's filesystem, user and commands, but neither a
# read-only root, nor dropped capabilities, nor a network of its own (the coordinator listens on
# the host's loopback, on ports the kernel picks). FEDISTILL_REQUIRE_RUN=1 makes that fallback a
# failure. FEDISTILL_RUN_DEADLINE_S (120) bounds the wait for healthy.
set -euo pipefail
image=${FEDISTILL_IMAGE:?set FEDISTILL_IMAGE to the image to run, e.g. fedistill:0.1.0}
deadline_s=${FEDISTILL_RUN_DEADLINE_S:-120}
# The fallback's isolation: chroot shares this machine's network and PID space, so the health check
# (a second `buildah run`) reaches the coordinator, and SIGTERM reaches it by its pid.
export BUILDAH_ISOLATION=chroot
fail() { echo "run-checks.sh: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d /var/tmp/fedistill-run.XXXXXX)
name=fedistill-check-$$
ctr=
coordinator_pid=
cleanup() {
  [ -z "$coordinator_pid" ] || kill "$coordinator_pid" 2>/dev/null || true
  if [ "$runtime" = podman ]; then podman rm -f -t 5 "$name" >/dev/null 2>&1 || true; fi
  [ -z "$ctr" ] || buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
runtime=none
trap cleanup EXIT

hardened=(--user 10001:10001 --read-only --cap-drop ALL --security-opt no-new-privileges
  --tmpfs /tmp:size=64m,mode=1777 --network none)
reason=
if ! command -v podman >/dev/null; then
  reason="podman is not installed"
elif ! podman run --rm "${hardened[@]}" "$image" --version >"$work/probe.out" 2>&1; then
  reason="podman: $(grep -m1 '^Error' "$work/probe.out" || tail -1 "$work/probe.out")"
fi
if [ -z "$reason" ]; then
  runtime=podman
  echo "ok   podman runs the image (uid 10001, read-only root, no capabilities, no network)"
else
  echo "note this machine cannot run containers: $reason"
  [ "${FEDISTILL_REQUIRE_RUN:-0}" != 1 ] || fail "FEDISTILL_REQUIRE_RUN=1 and no container runtime works"
  command -v buildah >/dev/null || { echo "SKIP no buildah either: the image was built and inspected only"; exit 0; }
  runtime=buildah
  ctr=$(buildah from --pull=never "$image")
  echo "note falling back to buildah run (chroot isolation): the image's files, user and commands;" \
    "no read-only root, capability drop or network of its own"
fi

# in_image VOLUME-ARGS... -- COMMAND...: runs COMMAND in the image as uid 10001 (for podman, through
# the image's entrypoint, so COMMAND starts with fedistill's arguments or `--entrypoint`-less node).
in_image() {
  local vols=()
  while [ "$1" != -- ]; do vols+=("$1"); shift; done
  shift
  if [ "$runtime" = podman ]; then
    podman run --rm "${hardened[@]}" "${vols[@]}" --entrypoint '["/usr/bin/tini","-s","--"]' "$image" "$@"
  else
    buildah run --user 10001:10001 "${vols[@]}" "$ctr" -- "$@"
  fi
}

in_image -- fedistill --help >"$work/help.txt" 2>&1 || fail "--help failed: $(cat "$work/help.txt")"
grep -q '^Usage: fedistill' "$work/help.txt" || fail "--help printed no usage: $(head -3 "$work/help.txt")"
echo "ok   fedistill --help ($runtime)"

# A coordinator as in deploy/compose, on SQLite, with its PKI from the image's own `pki init`.
install -d -o 10001 -g 10001 -m 0700 "$work/pki" "$work/data"
install -d -m 0755 "$work/etc"
in_image -v "$work/pki:/pki" -- fedistill pki init --out /pki --host coordinator >"$work/pki.log" 2>&1 \
  || fail "pki init in the image failed: $(tail -3 "$work/pki.log")"
echo "ok   fedistill pki init ($runtime)"
node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('hex'))" >"$work/pki/operator.token"
chown 10001:10001 "$work/pki/operator.token" && chmod 0600 "$work/pki/operator.token"
cat >"$work/etc/coordinator.yaml" <<'EOF'
dataDir: /var/lib/fedistill/coordinator
grpc:
  listen: 127.0.0.1:0
  tls:
    cert: /run/secrets/coordinator.crt
    key: /run/secrets/coordinator.key
admin:
  listen: 127.0.0.1:0
  operatorTokenFile: /run/secrets/operator.token
EOF
mounts=(-v "$work/pki:/run/secrets:ro" -v "$work/etc:/etc/fedistill:ro" -v "$work/data:/var/lib/fedistill/coordinator")
start=(coordinator start --config /etc/fedistill/coordinator.yaml)
if [ "$runtime" = podman ]; then
  podman run -d --name "$name" "${hardened[@]}" "${mounts[@]}" "$image" "${start[@]}" >/dev/null \
    || fail "the coordinator container did not start"
  health() { podman healthcheck run "$name"; }
  alive() { [ "$(podman inspect -f '{{.State.Status}}' "$name" 2>/dev/null)" = running ]; }
  logs() { podman logs "$name" 2>&1 | tail -20; }
else
  buildah run --user 10001:10001 "${mounts[@]}" "$ctr" -- fedistill "${start[@]}" >"$work/coordinator.log" 2>&1 &
  coordinator_pid=$!
  health() { buildah run --user 10001:10001 -v "$work/data:/var/lib/fedistill/coordinator" "$ctr" -- node /opt/fedistill/healthcheck.js; }
  alive() { kill -0 "$coordinator_pid" 2>/dev/null; }
  logs() { tail -20 "$work/coordinator.log"; }
fi

# The image's HEALTHCHECK script, polled; bounded by the deadline, cut short if the coordinator exits.
started=$(date +%s)
until health >"$work/health.out" 2>&1; do
  alive || { logs >&2; fail "the coordinator exited before it became healthy"; }
  if [ $(($(date +%s) - started)) -ge "$deadline_s" ]; then
    logs >&2
    fail "the coordinator was not healthy after $deadline_s s: $(cat "$work/health.out")"
  fi
  sleep 1
done
echo "ok   HEALTHCHECK healthy after $(($(date +%s) - started)) s: $(tail -1 "$work/health.out")"
admin_url=$(node -p "require('$work/data/coordinator.runtime.json').adminUrl")
if [ "$runtime" = podman ]; then
  code=$(podman exec "$name" node -e \
    "fetch('$admin_url/healthz').then((r) => console.log(r.status), (e) => console.log(e.message))")
else # the host's loopback is the coordinator's
  code=$(node -e "fetch('$admin_url/healthz').then((r) => console.log(r.status), (e) => console.log(e.message))")
fi
[ "$code" = 200 ] || fail "$admin_url/healthz answered '$code'"
echo "ok   coordinator $admin_url/healthz 200"

if [ "$runtime" = podman ]; then
  podman stop -t 20 "$name" >/dev/null
  [ "$(podman inspect -f '{{.State.ExitCode}}' "$name")" = 0 ] || fail "the coordinator did not exit 0 on SIGTERM"
else
  # `buildah run` does not pass SIGTERM on: signal the coordinator itself. Chroot isolation has no
  # PID namespace, so the pid in its runtime file is this machine's.
  pid=$(node -p "require('$work/data/coordinator.runtime.json').pid")
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'coordinator start' || fail "pid $pid is not the coordinator"
  kill -TERM "$pid"
  waited=0
  while alive && [ "$waited" -lt 30 ]; do sleep 1; waited=$((waited + 1)); done
  alive && fail "the coordinator did not stop within 30 s of SIGTERM"
  wait "$coordinator_pid" || true
  coordinator_pid=
fi
[ ! -e "$work/data/coordinator.runtime.json" ] || fail "the coordinator did not stop cleanly (its runtime file is left)"
echo "ok   coordinator stopped cleanly on SIGTERM"
