#!/usr/bin/env bash
# Installs the real Kafka clients that Strata's golden protocol tests
# (test/golden/clients/) and acceptance tests (test/acceptance/clients/)
# drive: kcat (librdkafka) and python3-confluent-kafka from Debian, the Apache
# Kafka Java client and Kafka's command-line tools (ConsoleProducer,
# ConsoleConsumer, TopicCommand) from Maven Central, plus our compiled Java
# drivers. KafkaJS and @platformatic/kafka come from package.json
# devDependencies and need nothing here.
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
#   kafka-tools-<ver>/lib/*.jar          runtime classpath of kafka-tools (no
#                                        connect-runtime) plus log4j2
#   kafka-tools-<ver>/lib/.complete      stamp, as for kafka-clients
#   acceptance-java/<hash>/AcceptanceClient*.class
#                                        compiled test/acceptance/java/AcceptanceClient.java,
#                                        <hash> as for golden-java
#   kube-<ver>/, etcd-<ver>/, kwok-<ver>/, helm-<ver>/
#                                        the Kubernetes control plane for the operator
#                                        tests, built by hack/peers/k8s.sh (its header
#                                        describes the layout)
#   prometheus-operator-<ver>/crds/      monitoring.coreos.com CRDs for the chart tests,
#                                        from hack/peers/prometheus-crds.sh
# python3-confluent-kafka is a Debian package for /usr/bin/python3 (not
# whatever python3 is first on PATH).
# test/golden/clients/paths.ts and test/acceptance/clients/paths.ts compute
# the same paths; keep them in sync.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_VERSION="4.1.1"
CACHE="${STRATA_PEERS_CACHE:-$HOME/.cache/strata-peers}"
KAFKA_DIR="$CACHE/kafka-clients-$KAFKA_VERSION"
LIB_DIR="$KAFKA_DIR/lib"
POM="$ROOT/hack/peers/kafka-clients/pom.xml"
JAVA_SRC="$ROOT/test/golden/java/GoldenClient.java"
TOOLS_LIB_DIR="$CACHE/kafka-tools-$KAFKA_VERSION/lib"
TOOLS_POM="$ROOT/hack/peers/kafka-tools/pom.xml"
ACCEPTANCE_JAVA_SRC="$ROOT/test/acceptance/java/AcceptanceClient.java"

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
    quietly env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update
    apt_updated=1
  fi
  log "apt-get install $*"
  quietly env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@"
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

# --- python3-confluent-kafka (librdkafka's Python binding) ------------------
# Checked by file rather than by importing it: starting Python costs ~50 ms.
if ! compgen -G '/usr/lib/python3/dist-packages/confluent_kafka/__init__.py' >/dev/null; then
  apt_install python3-confluent-kafka
fi

# --- Maven jar caches ----------------------------------------------------------
# copy_jars <pom> <lib dir> <what> <expected jar prefix>...
# The stamp holds the pom's hash, so editing the pom refreshes the jars.
copy_jars() {
  local pom="$1" lib="$2" what="$3"
  shift 3
  local hash
  hash="$(sha256sum "$pom" | cut -c1-16)"
  if [ "$(cat "$lib/.complete" 2>/dev/null || true)" = "$hash" ]; then
    return 0
  fi
  log "resolving $what into $lib"
  rm -rf "$lib"
  mkdir -p "$lib"
  quietly mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
    -DoutputDirectory="$lib" -DincludeScope=runtime
  local want
  for want in "$@"; do
    if ! compgen -G "$lib/$want*" >/dev/null; then
      log "expected jar $want* missing from $lib"
      exit 1
    fi
  done
  echo "$hash" >"$lib/.complete"
}

# --- Kafka Java client jars --------------------------------------------------
copy_jars "$POM" "$LIB_DIR" "org.apache.kafka:kafka-clients:$KAFKA_VERSION" \
  "kafka-clients-$KAFKA_VERSION.jar" snappy-java- lz4-java- zstd-jni- slf4j-api- slf4j-nop-

# --- Kafka command-line tools jars -------------------------------------------
copy_jars "$TOOLS_POM" "$TOOLS_LIB_DIR" "org.apache.kafka:kafka-tools:$KAFKA_VERSION" \
  "kafka-tools-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar" snappy-java- lz4-java- zstd-jni- \
  log4j-core- log4j-slf4j-impl-

# --- Java drivers ------------------------------------------------------------
# compile_java <source> <cache subdir> <main class>: compiles the single-file
# driver against the kafka-clients jars into <cache>/<subdir>/<source hash>.
# Sets COMPILED_DIR.
compile_java() {
  local src="$1" sub="$2" main="$3"
  local hash
  hash="$(sha256sum "$src" | cut -c1-16)"
  COMPILED_DIR="$CACHE/$sub/$hash"
  if [ -f "$COMPILED_DIR/$main.class" ]; then
    return 0
  fi
  log "compiling $src into $COMPILED_DIR"
  mkdir -p "$CACHE/$sub"
  local tmp
  tmp="$(mktemp -d "$CACHE/$sub/.tmp.XXXXXX")"
  # shellcheck disable=SC2064 # expand $tmp now: it is local
  trap "rm -rf '$tmp'" EXIT
  chmod 755 "$tmp"
  javac -Xlint:all -encoding UTF-8 --release 17 -cp "$LIB_DIR/*" -d "$tmp" "$src"
  rm -rf "$COMPILED_DIR"
  mv "$tmp" "$COMPILED_DIR"
  trap - EXIT
}

compile_java "$JAVA_SRC" golden-java GoldenClient
CLASSES_DIR="$COMPILED_DIR"
compile_java "$ACCEPTANCE_JAVA_SRC" acceptance-java AcceptanceClient
ACCEPTANCE_CLASSES_DIR="$COMPILED_DIR"

# The reference Kafka broker's jars: tests read __consumer_offsets segments with Kafka's own
# DumpLogSegments, and the benchmark runs the broker itself.
KAFKA_REF_LIB="$(bash "$ROOT/hack/bench/install-kafka.sh")"

# The S3-compatible server the tiered-storage tests write to.
VERSITYGW="$(bash "$ROOT/hack/peers/install-versitygw.sh")"

# The Kubernetes control plane, etcd, kwok and helm for the operator tests (test/operator/). Cold
# it builds for 15-25 minutes; cached it checks four stamps. STRATA_SKIP_K8S_PEERS=1 skips it on a
# machine that only runs the broker tests.
K8S_PEERS="skipped"
if [ "${STRATA_SKIP_K8S_PEERS:-0}" != "1" ]; then
  K8S_PEERS="$(bash "$ROOT/hack/peers/k8s.sh" | sed 's/^\[k8s-peers\] //')"
  # The Prometheus Operator's CRDs, for the chart's ServiceMonitor and PrometheusRule (no build).
  K8S_PEERS="$K8S_PEERS prometheus-crds=$(bash "$ROOT/hack/peers/prometheus-crds.sh")"
fi

echo "[peers] kcat=$(command -v kcat) java-client=$LIB_DIR kafka-tools=$TOOLS_LIB_DIR kafka-ref=$KAFKA_REF_LIB golden-java=$CLASSES_DIR acceptance-java=$ACCEPTANCE_CLASSES_DIR versitygw=$VERSITYGW python=/usr/bin/python3+confluent_kafka k8s: $K8S_PEERS"
