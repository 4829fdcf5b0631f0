#!/usr/bin/env bash
# Installs the reference Apache Kafka broker and its perf tools (jars from
# Maven Central via hack/bench/kafka-ref/pom.xml) for bench/run.ts.
#
# Idempotent: the stamp file holds a hash of the pom, so a second run only
# reads one file, and editing the pom refreshes the jars.
#
# Cache layout (STRATA_PEERS_CACHE, default ~/.cache/strata-peers):
#   kafka-ref-<ver>/lib/*.jar       broker + kafka-tools + log4j2 runtime classpath
#   kafka-ref-<ver>/lib/.complete   stamp written after a full copy
#   kafka-ref-<ver>/log4j2.properties
#                                   logging config for broker and tools (a
#                                   properties file: YAML would need jackson-yaml)
# Prints the lib directory on stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_VERSION="4.1.1"
CACHE="${STRATA_PEERS_CACHE:-$HOME/.cache/strata-peers}"
DIR="$CACHE/kafka-ref-$KAFKA_VERSION"
LIB="$DIR/lib"
POM="$ROOT/hack/bench/kafka-ref/pom.xml"

log() { printf '[bench] %s\n' "$*" >&2; }

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool not found (install a JDK 17+ and Maven; hack/peers/install.sh does)"
    exit 1
  fi
done

hash="$(sha256sum "$POM" | cut -c1-16)"
if [ "$(cat "$LIB/.complete" 2>/dev/null || true)" != "$hash" ]; then
  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION + kafka-tools into $LIB"
  rm -rf "$LIB"
  mkdir -p "$LIB"
  out="$(mktemp)"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DoutputDirectory="$LIB" -DincludeScope=runtime >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    log "mvn failed"
    exit 1
  fi
  rm -f "$out"
  # Checked so a partial resolution never gets stamped as complete.
  for want in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar" \
    "kafka-server-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar" \
    scala-library- log4j-core- log4j-slf4j-impl-; do
    if ! compgen -G "$LIB/$want*" >/dev/null; then
      log "expected jar $want* missing from $LIB"
      exit 1
    fi
  done
  echo "$hash" >"$LIB/.complete"
fi

# Warnings only: per-request INFO logging from the broker would cost CPU on
# the broker's pinned core and skew the comparison.
cat >"$DIR/log4j2.properties.tmp" <<'PROPS'
status = warn
appender.c.type = Console
appender.c.name = STDOUT
appender.c.layout.type = PatternLayout
appender.c.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.c.ref = STDOUT
PROPS
mv "$DIR/log4j2.properties.tmp" "$DIR/log4j2.properties"

echo "$LIB"
