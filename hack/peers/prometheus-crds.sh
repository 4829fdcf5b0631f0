#!/usr/bin/env bash
# Caches the Prometheus Operator's CustomResourceDefinitions (monitoring.coreos.com: ServiceMonitor,
# PodMonitor, PrometheusRule and the rest) from the Go module proxy, so the chart's tests can
# dry-run its ServiceMonitor and PrometheusRule against a real API server. The module's zip holds
# them under example/prometheus-operator-crd/. Nothing is compiled; they are never committed.
#
# Cache layout (STRATA_PEERS_CACHE, default ~/.cache/strata-peers):
#   prometheus-operator-<ver>/crds/*.yaml
#   prometheus-operator-<ver>/.complete   stamp, written last
# test/operator/peers.ts computes the same path; keep them in sync.
#
# Usage: prometheus-crds.sh   (idempotent; prints the directory on stdout)
# Needs: go.
set -euo pipefail

VERSION="0.85.0"
CACHE="${STRATA_PEERS_CACHE:-$HOME/.cache/strata-peers}"
DIR="$CACHE/prometheus-operator-$VERSION"
STAMP="github.com/prometheus-operator/prometheus-operator@v$VERSION crds"

log() { printf '[prometheus-crds %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [ "$(cat "$DIR/.complete" 2>/dev/null || true)" != "$STAMP" ]; then
  command -v go >/dev/null || { log "go is not on PATH"; exit 1; }
  log "downloading github.com/prometheus-operator/prometheus-operator@v$VERSION from the module proxy"
  # Outside any module, so no go.mod of the caller's is touched.
  src="$(cd / && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus-operator/prometheus-operator@v$VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [ -d "$src/example/prometheus-operator-crd" ] || { log "no example/prometheus-operator-crd in '$src'"; exit 1; }
  rm -rf "$DIR/crds"
  mkdir -p "$DIR/crds"
  cp "$src"/example/prometheus-operator-crd/*.yaml "$DIR/crds/"
  chmod u+w "$DIR/crds/"*.yaml
  echo "$STAMP" >"$DIR/.complete"
  log "$(ls "$DIR/crds" | wc -l) CRDs in $DIR/crds"
fi
echo "$DIR/crds"
