#!/usr/bin/env bash
# Checks the deployment manifests without a container engine or a cluster:
#   - compose/docker-compose.yml: `docker-compose config` (Debian's docker-compose, the Compose
#     file schema; no daemon needed), then deploy/check-manifests.js's rules on the result;
#   - every kubernetes/overlays/*: rendered by kustomize (a `kustomize` binary, or `kubectl
#     kustomize` when kubectl embeds kustomize v4 or later) and by deploy/check-manifests.js's own
#     kustomize subset, which must agree; every object validated against the Kubernetes schema
#     and the pods against Pod Security "restricted". Without kustomize, the subset's rendering
#     is checked and the script says so.
# Then, unless --no-self-test, it breaks copies of the manifests in known ways and requires each
# copy to fail with the expected message, so a check that stopped checking is noticed.
# Usage: deploy/check-manifests.sh [--no-self-test]   (from anywhere; needs node, docker-compose)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
checker="$here/check-manifests.js"

command -v docker-compose >/dev/null || {
  echo "docker-compose not found: apt-get install --no-install-recommends docker-compose" >&2
  exit 2
}
kustomize=()
if command -v kustomize >/dev/null; then
  kustomize=(kustomize build)
elif command -v kubectl >/dev/null && kubectl version --client 2>/dev/null | grep -Eq 'Kustomize Version: v[4-9]'; then
  kustomize=(kubectl kustomize)
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# check_tree DIR [compose|kubernetes]: checks DIR/compose and DIR/kubernetes/overlays/* (or one
# of them); prints what failed and returns 1 then.
check_tree() {
  local dir="$1" part="${2:-all}" status=0 overlay name
  if [ "$part" = kubernetes ]; then
    :
  elif docker-compose -f "$dir/compose/docker-compose.yml" config >"$scratch/compose.yml" 2>"$scratch/compose.err"; then
    node "$checker" compose "$scratch/compose.yml" || status=1
  else
    sed 's/^/FAIL docker-compose config: /' "$scratch/compose.err" >&2
    status=1
  fi
  [ "$part" = compose ] && return $status
  for overlay in "$dir"/kubernetes/overlays/*/; do
    overlay="${overlay%/}"
    name="$(basename "$overlay")"
    if [ ${#kustomize[@]} -gt 0 ]; then
      if "${kustomize[@]}" "$overlay" >"$scratch/$name.yaml" 2>"$scratch/$name.err"; then
        node "$checker" kubernetes "$overlay" --rendered "$scratch/$name.yaml" || status=1
      else
        sed "s/^/FAIL ${kustomize[*]} $name: /" "$scratch/$name.err" >&2
        status=1
      fi
    else
      node "$checker" kubernetes "$overlay" || status=1
    fi
  done
  return $status
}

if [ ${#kustomize[@]} -gt 0 ]; then
  echo "kustomize: ${kustomize[*]} ($("${kustomize[0]}" version --client 2>/dev/null | grep -i kustomize | head -1 || true))"
else
  echo "kustomize: none found (no kustomize binary, no kubectl with kustomize v4+); overlays rendered by check-manifests.js alone"
fi
echo "docker-compose: $(docker-compose version --short)"
echo "== manifests"
check_tree "$here"

[ "${1:-}" = "--no-self-test" ] && exit 0

# expect_failure NAME MESSAGE EDIT...: copies the manifests, runs EDIT (a command, run in the
# copy's root), and requires check_tree to fail with MESSAGE among its output, checking only the
# part (compose or kubernetes) that EDIT's file is in.
cases=0
expect_failure() {
  local name="$1" message="$2" copy="$scratch/case" part="${4%%/*}"
  shift 2
  rm -rf "$copy"
  mkdir -p "$copy"
  cp -r "$here/compose" "$here/kubernetes" "$copy/"
  (cd "$copy" && "$@")
  if check_tree "$copy" "$part" >"$scratch/case.out" 2>&1; then
    echo "self-test '$name': the broken copy passed" >&2
    exit 1
  fi
  if ! grep -qF -- "$message" "$scratch/case.out"; then
    echo "self-test '$name': failed without '$message':" >&2
    cat "$scratch/case.out" >&2
    exit 1
  fi
  cases=$((cases + 1))
}
edit() { # edit FILE PERL-EXPRESSION: in-place substitution that must change the file
  local before
  before="$(cat "$1")"
  perl -0pi -e "$2" "$1"
  [ "$before" != "$(cat "$1")" ] || {
    echo "self-test edit did not apply to $1: $2" >&2
    exit 1
  }
}

echo "== self-test: broken copies must fail"
expect_failure 'compose: unknown key' "restart_policy" \
  edit compose/docker-compose.yml 's/(  postgres:\n)/$1    restart_policy: always\n/'
expect_failure 'compose: writable root filesystem' 'compose node-b: read_only must be true' \
  edit compose/docker-compose.yml 's/(  node-b:\n    <<: \*node\n)/$1    read_only: false\n/'
expect_failure 'compose: start order not health-gated' 'must depend on coordinator with condition service_healthy' \
  edit compose/docker-compose.yml 's/(coordinator:\n      condition: )service_healthy/${1}service_started/'
expect_failure 'compose: a password in the environment' 'POSTGRES_PASSWORD holds a secret' \
  edit compose/docker-compose.yml 's/POSTGRES_PASSWORD_FILE: \S+/POSTGRES_PASSWORD: hunter2hunter2/'
expect_failure 'kubernetes: schema' 'schema: data/spec/replicas must be integer' \
  edit kubernetes/base/coordinator-deployment.yaml 's/replicas: 1/replicas: one/'
expect_failure 'kubernetes: writable root filesystem' 'container coordinator: readOnlyRootFilesystem must be true' \
  edit kubernetes/base/coordinator-deployment.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
expect_failure 'kubernetes: privilege escalation in an overlay' 'container postgres: allowPrivilegeEscalation must be false' \
  edit kubernetes/overlays/postgres/postgres.yaml 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/'
expect_failure 'kubernetes: no liveness probe' 'container coordinator: livenessProbe must be set' \
  edit kubernetes/base/coordinator-deployment.yaml 's/livenessProbe:/startupProbeToo:/'
expect_failure 'kubernetes: missing resource' 'network-policy.yaml' \
  edit kubernetes/base/kustomization.yaml 's/networkpolicy.yaml/network-policy.yaml/'
expect_failure 'kubernetes: pods without a NetworkPolicy' 'Deployment/fedistill/fedistill-coordinator: no NetworkPolicy selects its pods' \
  edit kubernetes/base/kustomization.yaml 's/  - networkpolicy.yaml\n//'
echo "self-test: $cases broken copies failed as expected"
