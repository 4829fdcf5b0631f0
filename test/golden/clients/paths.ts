/**
 * Where hack/peers/install.sh puts the peer clients. Keep in sync with the
 * cache layout described at the top of that script.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KAFKA_CLIENTS_VERSION = '4.1.1';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const GOLDEN_JAVA_SOURCE = join(REPO_ROOT, 'test/golden/java/GoldenClient.java');

export function peersCacheDir(): string {
  return process.env.STRATA_PEERS_CACHE || join(homedir(), '.cache', 'strata-peers');
}

export function kafkaClientsLibDir(): string {
  return join(peersCacheDir(), `kafka-clients-${KAFKA_CLIENTS_VERSION}`, 'lib');
}

/** First 16 hex digits of the sha256 of GoldenClient.java, as install.sh computes it. */
export function goldenJavaSourceHash(): string {
  return createHash('sha256').update(readFileSync(GOLDEN_JAVA_SOURCE)).digest('hex').slice(0, 16);
}

export function goldenJavaClassesDir(): string {
  return join(peersCacheDir(), 'golden-java', goldenJavaSourceHash());
}

/** Classpath for `java -cp ... GoldenClient`: all client jars plus our compiled class. */
export function javaClasspath(): string {
  return [join(kafkaClientsLibDir(), '*'), goldenJavaClassesDir()].join(delimiter);
}

/** Full path of an executable found on PATH, or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Why the Java peer cannot run, or null when it can. */
export function javaProblem(): string | null {
  if (!which('java')) return 'java is not on PATH';
  if (!existsSync(join(kafkaClientsLibDir(), '.complete'))) {
    return `kafka-clients jars missing in ${kafkaClientsLibDir()}`;
  }
  if (!existsSync(join(goldenJavaClassesDir(), 'GoldenClient.class'))) {
    return `GoldenClient.java not compiled for its current source (${goldenJavaClassesDir()})`;
  }
  return null;
}
