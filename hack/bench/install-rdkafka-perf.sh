#!/usr/bin/env bash
# Builds librdkafka's rdkafka_performance tool, a C producer/consumer load
# generator that Strata's benchmarks drive next to Kafka's Java perf tools.
#
# The librdkafka sources come from an npm package that vendors them
# (node-rdkafka ships deps/librdkafka/ including examples/), fetched with
# `npm pack` into a temp dir under the cache: nothing lands in the repo and
# no git host is contacted. librdkafka is compiled as a static archive
# (librdkafka.a) with only what a PLAINTEXT benchmark needs: no TLS, no
# SASL/GSSAPI, no libcurl; compression codecs gzip (zlib), zstd, lz4 and
# snappy (the last two bundled with librdkafka). libz/libzstd/libc stay
# dynamic system libraries.
#
# Idempotent and cached: when the stamp matches it only reads one file and
# prints the binary's path. Takes about a minute on 2 cores otherwise.
#
# Cache layout (STRATA_PEERS_CACHE, default ~/.cache/strata-peers):
#   rdkafka-perf-<librdkafka ver>/bin/rdkafka_performance   the tool
#   rdkafka-perf-<librdkafka ver>/.complete                 stamp (build recipe)
#   rdkafka-perf-<librdkafka ver>/.lock                     flock while building
#
# Needs: npm, a C compiler, make, and the zlib/zstd dev headers (installed
# with apt-get when missing, as root or through sudo).
#
# Prints the path of the binary on stdout; log lines go to stderr.
set -euo pipefail

PKG="node-rdkafka"
PKG_VERSION="3.6.1"
# sha256 of the npm tarball, so a different artifact is never built.
PKG_SHA256="148f7e7b65c510314c70762d8f1be052c8fe1fdf03a128e6c78083a729a57a30"
# The librdkafka version that package vendors (checked against rdkafka.h).
LIBRDKAFKA_VERSION="2.12.0"
CONFIGURE_FLAGS=(
  --no-download --no-cache
  --disable-ssl --disable-gssapi --disable-curl --disable-syslog
  --disable-lz4-ext --enable-zlib --enable-zstd
)
CACHE="${STRATA_PEERS_CACHE:-$HOME/.cache/strata-peers}"
DIR="$CACHE/rdkafka-perf-$LIBRDKAFKA_VERSION"
BIN="$DIR/bin/rdkafka_performance"
STAMP="$DIR/.complete"
RECIPE="$PKG@$PKG_VERSION sha256:$PKG_SHA256 librdkafka $LIBRDKAFKA_VERSION configure ${CONFIGURE_FLAGS[*]}"

log() { printf '[bench] %s\n' "$*" >&2; }

# Fast path: the stamp records exactly what was built.
if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null || true)" = "$RECIPE" ]; then
  echo "$BIN"
  exit 0
fi

# Runs a command with its output in a temp log, shown only if it fails.
quietly() {
  local out rc=0
  out="$(mktemp)"
  "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 60 "$out" >&2
    log "failed ($rc): $*"
  fi
  rm -f "$out"
  return "$rc"
}

apt_updated=0
apt_install() {
  local -a as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      as_root=(sudo -n)
    else
      log "need $* but not root and no sudo; install them and rerun"
      exit 1
    fi
  fi
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    quietly "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update
    apt_updated=1
  fi
  log "apt-get install $*"
  quietly "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@"
}

# --- toolchain and headers ---------------------------------------------------
for tool in npm tar make cc sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool not found"
    exit 1
  fi
done

# has_header <header>: whether the C compiler finds it.
has_header() { printf '#include <%s>\n' "$1" | cc -E -x c - >/dev/null 2>&1; }
missing=()
has_header zlib.h || missing+=(zlib1g-dev)
has_header zstd.h || missing+=(libzstd-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# --- build -------------------------------------------------------------------
mkdir -p "$DIR"
# One builder at a time; a waiter rechecks the stamp after getting the lock.
exec 9>"$DIR/.lock"
flock 9
if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null || true)" = "$RECIPE" ]; then
  echo "$BIN"
  exit 0
fi

started=$SECONDS
tmp="$(mktemp -d "$CACHE/.rdkafka-perf.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

log "fetching $PKG@$PKG_VERSION with npm pack"
tgz="$(cd "$tmp" && npm pack "$PKG@$PKG_VERSION" --silent 2>/dev/null | tail -n 1)"
if [ -z "$tgz" ] || [ ! -f "$tmp/$tgz" ]; then
  log "npm pack $PKG@$PKG_VERSION produced no tarball"
  (cd "$tmp" && npm pack "$PKG@$PKG_VERSION") >&2 || true
  exit 1
fi
got="$(sha256sum "$tmp/$tgz" | cut -d' ' -f1)"
if [ "$got" != "$PKG_SHA256" ]; then
  log "sha256 mismatch for $tgz: got $got, want $PKG_SHA256"
  exit 1
fi

tar xzf "$tmp/$tgz" -C "$tmp" package/deps/librdkafka
SRC="$tmp/package/deps/librdkafka"
IFS=. read -r v_major v_minor v_patch <<<"$LIBRDKAFKA_VERSION"
want_hex="$(printf '0x%02x%02x%02xff' "$v_major" "$v_minor" "$v_patch")"
if ! grep -q "define RD_KAFKA_VERSION *$want_hex" "$SRC/src/rdkafka.h"; then
  log "$PKG@$PKG_VERSION does not vendor librdkafka $LIBRDKAFKA_VERSION ($want_hex)"
  exit 1
fi

jobs="$(nproc 2>/dev/null || echo 2)"
log "configuring librdkafka $LIBRDKAFKA_VERSION (${CONFIGURE_FLAGS[*]})"
(cd "$SRC" && quietly ./configure "${CONFIGURE_FLAGS[@]}")
for want in WITH_ZLIB WITH_ZSTD WITH_SNAPPY; do
  if ! grep -q "define $want 1" "$SRC/config.h"; then
    log "configure did not enable $want"
    exit 1
  fi
done
log "compiling librdkafka.a (make -j$jobs)"
quietly make -j"$jobs" -C "$SRC/src" librdkafka.a
log "linking rdkafka_performance"
quietly make -C "$SRC/examples" rdkafka_performance

# The tool prints its effective configuration and exits: a smoke test that
# also shows which codecs made it in.
features="$("$SRC/examples/rdkafka_performance" -X dump -t smoke | sed -n 's/^builtin.features = //p')"
for codec in gzip snappy lz4 zstd; do
  case ",$features," in
    *",$codec,"*) ;;
    *)
      log "built tool lacks $codec (builtin.features=$features)"
      exit 1
      ;;
  esac
done

rm -rf "$DIR/bin" "$STAMP"
mkdir -p "$DIR/bin"
cp "$SRC/examples/rdkafka_performance" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
echo "$RECIPE" >"$STAMP"
log "built $BIN in $((SECONDS - started))s (features: $features)"

echo "$BIN"
