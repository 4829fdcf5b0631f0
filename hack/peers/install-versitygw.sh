#!/usr/bin/env bash
# Builds versitygw, an S3-compatible gateway onto a local directory, from the Go module proxy. The
# tiered-storage tests run it as the real S3 server: multipart uploads, ranged GETs, ListObjectsV2,
# DeleteObjects and conditional writes (If-None-Match: *), over HTTP on 127.0.0.1.
#
# The module is fetched through GOPROXY (proxy.golang.org by default) at a pinned version, so no git
# host is contacted; go.sum checking against the checksum database applies as usual.
#
# Idempotent and cached: when the stamp matches it prints the binary's path and exits. Building
# takes about two minutes on 2 cores.
#
# Cache layout (STRATA_PEERS_CACHE, default ~/.cache/strata-peers):
#   versitygw-<ver>/bin/versitygw   the server
#   versitygw-<ver>/.complete       stamp (the module version)
#   versitygw-<ver>/.lock           flock while building
#
# Needs: go 1.25 or newer. Prints the path of the binary on stdout; log lines go to stderr.
set -euo pipefail

VERSION="v1.8.0"
MODULE="github.com/versity/versitygw/cmd/versitygw"
CACHE="${STRATA_PEERS_CACHE:-$HOME/.cache/strata-peers}"
DIR="$CACHE/versitygw-${VERSION#v}"
BIN="$DIR/bin/versitygw"
STAMP="$DIR/.complete"

log() { printf '[versitygw] %s\n' "$*" >&2; }

if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$MODULE@$VERSION" ]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { log "go is not on PATH; install Go 1.25 or newer"; exit 1; }
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
# Another process may have built it while this one waited for the lock.
if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$MODULE@$VERSION" ]; then
  echo "$BIN"
  exit 0
fi

log "building $MODULE@$VERSION from the Go module proxy (about two minutes)"
tmp="$(mktemp -d "$DIR/build.XXXXXX")"
# shellcheck disable=SC2064 # expand $tmp now
trap "rm -rf '$tmp'" EXIT
started=$SECONDS
GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$MODULE@$VERSION" >&2
mkdir -p "$DIR/bin"
mv "$tmp/versitygw" "$BIN"
echo "$MODULE@$VERSION" >"$STAMP"
log "built in $((SECONDS - started)) s: $BIN"
echo "$BIN"
