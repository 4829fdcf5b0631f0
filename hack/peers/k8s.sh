#!/usr/bin/env bash
# Builds the real Kubernetes control plane the operator tests run against, from the Go module proxy
# (no Docker, no release downloads): kube-apiserver, kube-controller-manager, kube-scheduler and
# kubectl, etcd, kwok (fake nodes, so pods reach Running) and helm 3.
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod requires every staging module at v0.0.0
# and replaces each with ./staging/src/k8s.io/<name>. A small wrapper module replaces each staging
# module with its published tag v0.<minor>.<patch>; the list is read from that release's go.mod, as
# it changes between releases. The -X flags give /version a real version, which Helm's kubeVersion
# checks need. etcd's server module has `replace => ../api`, so it too is built from a wrapper
# module (its sibling modules are published at the same tag and need no replace lines).
#
# Idempotent and cached: when every stamp matches it prints the paths and exits in well under a
# second. Cold, it takes about 15-25 minutes on 2 cores; it builds one package at a time under
# `nice` so a shared machine stays usable (STRATA_K8S_BUILD_P raises the parallelism).
#
# Cache layout (STRATA_PEERS_CACHE, default ~/.cache/strata-peers):
#   kube-<ver>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   kube-<ver>/src/                       the wrapper module (go.mod, go.sum)
#   etcd-<ver>/bin/etcd                   etcd-<ver>/src/ its wrapper module
#   kwok-<ver>/bin/{kwok,kwokctl}
#   kwok-<ver>/stages/*.yaml              the default fast Stage configs that the standalone
#                                         kwok controller needs (it refuses to start without any)
#   helm-<ver>/bin/helm
#   <component>-<ver>/.complete           stamp: what was built, written last
#   <component>-<ver>/.lock               flock while building
# test/operator/peers.ts computes the same paths; keep them in sync.
#
# Usage: k8s.sh [component...]   components: etcd kube kwok helm (default: all, in that order).
# Prints one summary line with the paths on stdout; progress lines go to stderr.
# Needs: go 1.26 or newer (helm 3.21 needs it), flock, nice.
set -euo pipefail

KUBE_VERSION="1.33.13"
ETCD_VERSION="3.6.16"
KWOK_VERSION="0.7.0"
HELM_VERSION="3.21.4"
CACHE="${STRATA_PEERS_CACHE:-$HOME/.cache/strata-peers}"
PARALLEL="${STRATA_K8S_BUILD_P:-1}"

KUBE_DIR="$CACHE/kube-$KUBE_VERSION"
ETCD_DIR="$CACHE/etcd-$ETCD_VERSION"
KWOK_DIR="$CACHE/kwok-$KWOK_VERSION"
HELM_DIR="$CACHE/helm-$HELM_VERSION"

log() { printf '[k8s-peers %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Every build runs niced, one package at a time, without cgo (static binaries, no C toolchain).
gobuild() {
  nice -n 10 env CGO_ENABLED=0 GOFLAGS="-p=$PARALLEL -buildvcs=false" go "$@" >&2
}

is_built() { # <dir> <stamp text>
  [ "$(cat "$1/.complete" 2>/dev/null || true)" = "$2" ]
}

# Takes the component's lock on fd 9; the caller re-checks the stamp after it.
lock() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock 9
}
unlock() { exec 9>&-; }

build_etcd() {
  local stamp="go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  is_built "$ETCD_DIR" "$stamp" && return 0
  lock "$ETCD_DIR"
  if ! is_built "$ETCD_DIR" "$stamp"; then
    local started=$SECONDS
    log "etcd v$ETCD_VERSION: resolving the wrapper module"
    mkdir -p "$ETCD_DIR/src" "$ETCD_DIR/bin"
    (
      cd "$ETCD_DIR/src"
      [ -f go.mod ] || go mod init local/etcdbuild >/dev/null 2>&1
      gobuild get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
      log "etcd v$ETCD_VERSION: building"
      gobuild build -trimpath -ldflags "-s -w" -o "$ETCD_DIR/bin/etcd.tmp" go.etcd.io/etcd/server/v3
      mv "$ETCD_DIR/bin/etcd.tmp" "$ETCD_DIR/bin/etcd"
    )
    echo "$stamp" >"$ETCD_DIR/.complete"
    log "etcd v$ETCD_VERSION: built in $((SECONDS - started)) s"
  fi
  unlock
}

build_kube() {
  local stamp="k8s.io/kubernetes@v$KUBE_VERSION apiserver,controller-manager,scheduler,kubectl"
  is_built "$KUBE_DIR" "$stamp" && return 0
  lock "$KUBE_DIR"
  if ! is_built "$KUBE_DIR" "$stamp"; then
    local started=$SECONDS
    local minor="${KUBE_VERSION#1.}"
    minor="${minor%%.*}"
    local staging="v0.${KUBE_VERSION#1.}"
    mkdir -p "$KUBE_DIR/src" "$KUBE_DIR/bin"
    (
      cd "$KUBE_DIR/src"
      [ -f go.mod ] || go mod init local/k8sbuild >/dev/null 2>&1
      log "kube v$KUBE_VERSION: reading the release's go.mod"
      local mod
      mod="$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
      [ -f "$mod" ] || { log "kube: go.mod of k8s.io/kubernetes@v$KUBE_VERSION not found"; exit 1; }
      local m count=0
      for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$mod"); do
        go mod edit "-replace=$m=$m@$staging"
        count=$((count + 1))
      done
      log "kube v$KUBE_VERSION: $count staging modules replaced with $staging; resolving modules (several hundred MB when cold)"
      gobuild get "k8s.io/kubernetes/cmd/kube-apiserver@v$KUBE_VERSION" \
        "k8s.io/kubernetes/cmd/kube-controller-manager@v$KUBE_VERSION" \
        "k8s.io/kubernetes/cmd/kube-scheduler@v$KUBE_VERSION" \
        "k8s.io/kubernetes/cmd/kubectl@v$KUBE_VERSION"
      local ldf="-s -w -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION"
      ldf="$ldf -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
      ldf="$ldf -X k8s.io/component-base/version.gitTreeState=clean"
      local cmd
      # One binary per go build, apiserver first: it is usable (CRD tests) before the others finish.
      # A binary already built at this version is skipped, so adding one rebuilds only that one.
      for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
        if [ -x "$KUBE_DIR/bin/$cmd" ] && [ "$(cat "$KUBE_DIR/bin/.$cmd" 2>/dev/null || true)" = "v$KUBE_VERSION" ]; then
          continue
        fi
        local t=$SECONDS
        log "kube v$KUBE_VERSION: building $cmd"
        gobuild build -trimpath -ldflags "$ldf" -o "$KUBE_DIR/bin/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
        mv "$KUBE_DIR/bin/$cmd.tmp" "$KUBE_DIR/bin/$cmd"
        echo "v$KUBE_VERSION" >"$KUBE_DIR/bin/.$cmd"
        log "kube v$KUBE_VERSION: $cmd built in $((SECONDS - t)) s"
      done
    )
    echo "$stamp" >"$KUBE_DIR/.complete"
    log "kube v$KUBE_VERSION: all four built in $((SECONDS - started)) s"
  fi
  unlock
}

build_kwok() {
  local stamp="sigs.k8s.io/kwok@v$KWOK_VERSION kwok,kwokctl,stages"
  is_built "$KWOK_DIR" "$stamp" && return 0
  lock "$KWOK_DIR"
  if ! is_built "$KWOK_DIR" "$stamp"; then
    local started=$SECONDS
    log "kwok v$KWOK_VERSION: building kwok and kwokctl"
    mkdir -p "$KWOK_DIR/bin" "$KWOK_DIR/stages"
    local ldf="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION"
    GOBIN="$KWOK_DIR/bin" gobuild install -trimpath -ldflags "$ldf" \
      "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@v$KWOK_VERSION"
    local src
    src="$(go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
    local f
    for f in node/fast/node-initialize.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml \
      pod/fast/pod-delete.yaml; do
      [ -f "$src/kustomize/stage/$f" ] || { log "kwok: stage $f missing from $src"; exit 1; }
      cp "$src/kustomize/stage/$f" "$KWOK_DIR/stages/"
    done
    chmod u+w "$KWOK_DIR/stages/"*.yaml
    echo "$stamp" >"$KWOK_DIR/.complete"
    log "kwok v$KWOK_VERSION: built in $((SECONDS - started)) s"
  fi
  unlock
}

build_helm() {
  local stamp="helm.sh/helm/v3@v$HELM_VERSION"
  is_built "$HELM_DIR" "$stamp" && return 0
  lock "$HELM_DIR"
  if ! is_built "$HELM_DIR" "$stamp"; then
    local started=$SECONDS
    log "helm v$HELM_VERSION: building"
    mkdir -p "$HELM_DIR/bin"
    GOBIN="$HELM_DIR/bin" gobuild install -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
    echo "$stamp" >"$HELM_DIR/.complete"
    log "helm v$HELM_VERSION: built in $((SECONDS - started)) s"
  fi
  unlock
}

components=("$@")
[ "${#components[@]}" -gt 0 ] || components=(etcd kube kwok helm)
for c in "${components[@]}"; do
  case "$c" in
    etcd | kube | kwok | helm) ;;
    *) log "unknown component '$c' (etcd kube kwok helm)"; exit 2 ;;
  esac
done
need_go=0
for c in "${components[@]}"; do
  case "$c" in
    etcd) is_built "$ETCD_DIR" "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" || need_go=1 ;;
    kube) is_built "$KUBE_DIR" "k8s.io/kubernetes@v$KUBE_VERSION apiserver,controller-manager,scheduler,kubectl" || need_go=1 ;;
    kwok) is_built "$KWOK_DIR" "sigs.k8s.io/kwok@v$KWOK_VERSION kwok,kwokctl,stages" || need_go=1 ;;
    helm) is_built "$HELM_DIR" "helm.sh/helm/v3@v$HELM_VERSION" || need_go=1 ;;
  esac
done
if [ "$need_go" -eq 1 ]; then
  command -v go >/dev/null || { log "go is not on PATH; install Go 1.26 or newer"; exit 1; }
  command -v flock >/dev/null || { log "flock is not on PATH (util-linux)"; exit 1; }
fi
total=$SECONDS
for c in "${components[@]}"; do
  "build_$c"
done
[ "$need_go" -eq 0 ] || log "done in $((SECONDS - total)) s"

echo "[k8s-peers] kube-apiserver=$KUBE_DIR/bin/kube-apiserver kube-controller-manager=$KUBE_DIR/bin/kube-controller-manager kube-scheduler=$KUBE_DIR/bin/kube-scheduler kubectl=$KUBE_DIR/bin/kubectl etcd=$ETCD_DIR/bin/etcd kwok=$KWOK_DIR/bin/kwok kwokctl=$KWOK_DIR/bin/kwokctl kwok-stages=$KWOK_DIR/stages helm=$HELM_DIR/bin/helm"
