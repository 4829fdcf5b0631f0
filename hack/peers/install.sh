#!/usr/bin/env bash
# Installs the real Kafka clients that Strata's golden protocol tests drive
# (see test/golden/clients/): kcat (librdkafka) from Debian, and the Apache
# Kafka Java client from Maven Central plus our compiled GoldenClient driver.
# KafkaJS comes from package.json devDependencies and needs nothing here.
#
# Idempotent and cached: when everything is present it only checks a few
# files and prints one summary line.
#
# Cache layout (STRATA_PEERS_CACHE, default ~/.cache/strata-peers):
#   kafka-clients-<ver>/lib/*.jar        runtime classpath of kafka-clients
#   kafka-clients-<ver>/lib/.complete    stamp written after a full copy
#                                        (holds a hash of the pom)
#   golden-java/<hash>/GoldenClient*.class
#                                        compiled test/golden/java/GoldenClient.java;
#                                        <hash> = first 16 hex digits of the
#                                        sha256 of that source file
# test/golden/clients/paths.ts computes the same paths; keep them in sync.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_VERSION="4.1.1"
CACHE="${STRATA_PEERS_CACHE:-$HOME/.cache/strata-peers}"
KAFKA_DIR="$CACHE/kafka-clients-$KAFKA_VERSION"
LIB_DIR="$KAFKA_DIR/lib"
POM="$ROOT/hack/peers/kafka-clients/pom.xml"
JAVA_SRC="$ROOT/test/golden/java/GoldenClient.java"

log() { printf '[peers] %s\n' "$*" >&2; }

# Runs a command with its output in a temp log, shown only if it fails.
quietly() {
  local out rc=0
  out="$(mktemp)"
  "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$out" >&2
    log "failed ($rc): $*"
  fi
  rm -f "$out"
  return "$rc"
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    quietly env DEBIAN_FRONTEND=noninteractive apt-get update
    apt_updated=1
  fi
  log "apt-get install $*"
  quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# --- kcat (librdkafka CLI) ---------------------------------------------------
if ! command -v kcat >/dev/null 2>&1; then
  apt_install kcat
fi

# --- JDK and Maven (normally preinstalled) -----------------------------------
missing=()
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# --- Kafka Java client jars --------------------------------------------------
# The stamp holds the pom's hash, so editing the pom refreshes the jars.
POM_HASH="$(sha256sum "$POM" | cut -c1-16)"
if [ "$(cat "$LIB_DIR/.complete" 2>/dev/null || true)" != "$POM_HASH" ]; then
  log "resolving org.apache.kafka:kafka-clients:$KAFKA_VERSION into $LIB_DIR"
  rm -rf "$LIB_DIR"
  mkdir -p "$LIB_DIR"
  quietly mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DoutputDirectory="$LIB_DIR" -DincludeScope=runtime
  for want in "kafka-clients-$KAFKA_VERSION.jar" snappy-java- lz4-java- zstd-jni- slf4j-api- slf4j-nop-; do
    if ! compgen -G "$LIB_DIR/$want*" >/dev/null; then
      log "expected jar $want* missing from $LIB_DIR"
      exit 1
    fi
  done
  echo "$POM_HASH" >"$LIB_DIR/.complete"
fi

# --- GoldenClient.java -------------------------------------------------------
SRC_HASH="$(sha256sum "$JAVA_SRC" | cut -c1-16)"
CLASSES_DIR="$CACHE/golden-java/$SRC_HASH"
if [ ! -f "$CLASSES_DIR/GoldenClient.class" ]; then
  log "compiling $JAVA_SRC into $CLASSES_DIR"
  mkdir -p "$CACHE/golden-java"
  tmp="$(mktemp -d "$CACHE/golden-java/.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp"
  javac -Xlint:all -encoding UTF-8 --release 17 -cp "$LIB_DIR/*" -d "$tmp" "$JAVA_SRC"
  rm -rf "$CLASSES_DIR"
  mv "$tmp" "$CLASSES_DIR"
  trap - EXIT
fi

echo "[peers] kcat=$(command -v kcat) java-client=$LIB_DIR golden-java=$CLASSES_DIR"
