/**
 * Where hack/peers/install.sh puts the acceptance peers. Keep in sync with the
 * cache layout described at the top of that script.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KAFKA_CLIENTS_VERSION, kafkaClientsLibDir, peersCacheDir, REPO_ROOT } from '../../golden/clients/paths.js';

export { REPO_ROOT, which } from '../../golden/clients/paths.js';

/** Debian's python3-confluent-kafka is installed for this interpreter only. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const CONFLUENT_KAFKA_PACKAGE_DIR = '/usr/lib/python3/dist-packages/confluent_kafka';

export const ACCEPTANCE_DIR = join(REPO_ROOT, 'test/acceptance/clients');
export const PYTHON_DRIVER = join(ACCEPTANCE_DIR, 'driver.py');
export const KAFKAJS_DRIVER = join(ACCEPTANCE_DIR, 'kafkajs-driver.ts');
export const PLATFORMATIC_DRIVER = join(ACCEPTANCE_DIR, 'platformatic-driver.ts');
export const ACCEPTANCE_JAVA_SOURCE = join(REPO_ROOT, 'test/acceptance/java/AcceptanceClient.java');
/** log4j2 configuration for Kafka's tools: warnings to stderr, nothing on stdout. */
export const KAFKA_TOOLS_LOG4J_CONFIG = join(REPO_ROOT, 'hack/peers/kafka-tools/log4j2.properties');

export function kafkaToolsLibDir(): string {
  return join(peersCacheDir(), `kafka-tools-${KAFKA_CLIENTS_VERSION}`, 'lib');
}

/** First 16 hex digits of the sha256 of AcceptanceClient.java, as install.sh computes it. */
export function acceptanceJavaSourceHash(): string {
  return createHash('sha256').update(readFileSync(ACCEPTANCE_JAVA_SOURCE)).digest('hex').slice(0, 16);
}

export function acceptanceJavaClassesDir(): string {
  return join(peersCacheDir(), 'acceptance-java', acceptanceJavaSourceHash());
}

/** Classpath for the Java client driver: kafka-clients jars (slf4j-nop) plus AcceptanceClient. */
export function javaClientClasspath(): string {
  return [join(kafkaClientsLibDir(), '*'), acceptanceJavaClassesDir()].join(delimiter);
}

/** Classpath for Kafka's console tools: kafka-tools jars (log4j2) plus AcceptanceClient's plug-ins. */
export function kafkaToolsClasspath(): string {
  return [join(kafkaToolsLibDir(), '*'), acceptanceJavaClassesDir()].join(delimiter);
}

/** Why AcceptanceClient cannot run, or null. */
export function acceptanceJavaProblem(): string | null {
  if (!existsSync(join(kafkaClientsLibDir(), '.complete'))) return `kafka-clients jars missing in ${kafkaClientsLibDir()}`;
  if (!existsSync(join(acceptanceJavaClassesDir(), 'AcceptanceClient.class'))) {
    return `AcceptanceClient.java not compiled for its current source (${acceptanceJavaClassesDir()})`;
  }
  return null;
}

/** Why Kafka's console tools cannot run, or null. */
export function kafkaToolsProblem(): string | null {
  if (!existsSync(join(kafkaToolsLibDir(), '.complete'))) return `kafka-tools jars missing in ${kafkaToolsLibDir()}`;
  return null;
}

export { kafkaClientsLibDir, peersCacheDir };
