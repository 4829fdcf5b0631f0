// The broker configuration a StrataCluster renders: one server.properties shared by every pod (in
// the ConfigMap) plus the per-pod keys, which the pod spec sets as STRATA_CONFIG_* environment
// variables from the pod's own identity (broker-pod.ts). Environment variables override the file,
// so a key is set in exactly one of the two places.
//
// The rendered file is checked with the broker's own loader before it is handed out: a value the
// broker would refuse at start-up (an unknown key, a bad number) becomes a Stalled condition on
// the cluster instead of pods that crash in a loop.
import { createHash } from 'node:crypto';
import { ConfigError, loadBrokerConfig } from '../../broker/config/index.js';
import { OPERATOR_OWNED_KEYS, type StrataCluster } from '../api/v1alpha1.js';
import {
  DEFAULT_ACCESS_KEY_ID_KEY,
  DEFAULT_LISTENERS,
  DEFAULT_S3_REGION,
  DEFAULT_SECRET_ACCESS_KEY_KEY,
  HTTP_PORT,
  LOG_DIR,
} from '../defaults.js';
import { splitBrokerConfig } from './live-config.js';

export interface RenderedBrokerConfig {
  /** server.properties text, for the ConfigMap. */
  readonly properties: string;
  /** First 16 hex digits of its sha256: changes exactly when the file does. */
  readonly hash: string;
  /** The same of the file without its live keys: changes exactly when a key that needs a restart
   *  does. The pod template carries it when the controller applies live keys itself. */
  readonly restartHash: string;
  /** The keys of the file a running broker takes through IncrementalAlterConfigs (live-config.ts). */
  readonly live: Readonly<Record<string, string>>;
  readonly listeners: readonly { name: string; port: number }[];
  /** Where the brokers read their S3 credentials from, when tiered storage is on. */
  readonly s3Credentials: { secret: string; accessKeyIdKey: string; secretAccessKeyKey: string } | null;
}

/** A spec the operator cannot render; reported as a Stalled condition, not retried. */
export class InvalidSpecError extends Error {
  override readonly name = 'InvalidSpecError';
  constructor(
    /** The spec field at fault, e.g. spec.config. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

// Java properties escaping (what broker/config/properties.ts reads back): in keys the separators
// and blanks, everywhere backslashes and line breaks; a value's leading blank would be skipped.
function escapeKey(k: string): string {
  return k.replace(/[\\=: #!\t\f]/g, (c) => `\\${c === '\t' ? 't' : c === '\f' ? 'f' : c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
function escapeValue(v: string): string {
  return v
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/^[ \t\f]/, (c) => `\\${c === '\t' ? 't' : c === '\f' ? 'f' : c}`);
}

/** The cluster id every broker of a cluster reports: the custom resource's uid as Kafka formats
 *  cluster ids (16 bytes, base64url). A broker only uses it when it formats an empty volume;
 *  afterwards its meta.properties keeps the id it was formatted with. */
export function clusterIdFor(uid: string): string {
  const hex = uid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new InvalidSpecError('metadata.uid', `'${uid}' is not a UUID`);
  return Buffer.from(hex, 'hex').toString('base64url');
}

export function renderBrokerConfig(cluster: StrataCluster): RenderedBrokerConfig {
  const spec = cluster.spec;
  const listeners = spec.listeners ?? DEFAULT_LISTENERS;
  for (const l of listeners) {
    if (l.port === HTTP_PORT) throw new InvalidSpecError('spec.listeners', `listener ${l.name} uses port ${HTTP_PORT}, the brokers' HTTP endpoint (/metrics, /healthz, /readyz)`);
  }
  const owned: [string, string][] = [
    // An empty host binds every interface of the pod.
    ['listeners', listeners.map((l) => `${l.name}://:${l.port}`).join(',')],
    ['listener.security.protocol.map', listeners.map((l) => `${l.name}:PLAINTEXT`).join(',')],
    ['log.dirs', LOG_DIR],
    // The kubelet probes the pod's IP, so the endpoint listens on every interface.
    ['strata.http.listener', `:${HTTP_PORT}`],
  ];
  let s3Credentials: RenderedBrokerConfig['s3Credentials'] = null;
  const t = spec.tieredStorage;
  if (t !== undefined) {
    owned.push(['remote.log.storage.system.enable', 'true'], ['strata.tiered.store', 's3'], ['strata.tiered.s3.bucket', t.bucket]);
    if (t.endpoint !== undefined) owned.push(['strata.tiered.s3.endpoint', t.endpoint]);
    owned.push(['strata.tiered.s3.region', t.region ?? DEFAULT_S3_REGION]);
    if (t.prefix !== undefined) owned.push(['strata.tiered.s3.prefix', t.prefix]);
    if (t.pathStyle !== undefined) owned.push(['strata.tiered.s3.path.style', String(t.pathStyle)]);
    if (t.localRetentionMs !== undefined) owned.push(['log.local.retention.ms', String(t.localRetentionMs)]);
    if (t.localRetentionBytes !== undefined) owned.push(['log.local.retention.bytes', String(t.localRetentionBytes)]);
    s3Credentials = {
      secret: t.credentialsSecret.name,
      accessKeyIdKey: t.credentialsSecret.accessKeyIdKey ?? DEFAULT_ACCESS_KEY_ID_KEY,
      secretAccessKeyKey: t.credentialsSecret.secretAccessKeyKey ?? DEFAULT_SECRET_ACCESS_KEY_KEY,
    };
  }
  const user = Object.entries(spec.config ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // The API server refuses these keys already (a CEL rule); a resource stored before the rule
  // existed, or written past it, still must not override what the pod contract depends on.
  const ownedNames = new Set<string>([...OPERATOR_OWNED_KEYS, ...owned.map(([k]) => k)]);
  const clash = user.filter(([k]) => ownedNames.has(k)).map(([k]) => k);
  if (clash.length > 0) throw new InvalidSpecError('spec.config', `sets ${clash.join(', ')}, which the operator sets itself`);
  const clusterId: [string, string][] = user.some(([k]) => k === 'strata.cluster.id') || cluster.metadata.uid === undefined ? [] : [['strata.cluster.id', clusterIdFor(cluster.metadata.uid)]];

  const line = ([k, v]: [string, string]) => `${escapeKey(k)}=${escapeValue(v)}\n`;
  const text = (keep: (e: [string, string]) => boolean) => {
    const userKept = user.filter(keep);
    return (
      `# Rendered by the Strata operator from StrataCluster ${cluster.metadata.namespace ?? 'default'}/${cluster.metadata.name}; edits here are overwritten.\n` +
      `# node.id and advertised.listeners come from each pod's environment (STRATA_CONFIG_NODE_ID, STRATA_CONFIG_ADVERTISED_LISTENERS).\n` +
      [...owned, ...clusterId].filter(keep).map(line).join('') +
      (userKept.length > 0 ? `# spec.config\n${userKept.map(line).join('')}` : '')
    );
  };
  const properties = text(() => true);
  // Keys a running broker takes live stay out of restartHash, so changing only them rolls no pod
  // (live-config.ts); without such keys it is the hash of the whole file.
  const { live } = splitBrokerConfig([...owned, ...clusterId, ...user]);
  const hashed = text(([k]) => !(k in live));

  // The broker's own loader, with what each pod adds from its environment, decides whether this
  // configuration starts; its message names the key.
  try {
    loadBrokerConfig({
      file: 'spec.config',
      fileText: properties,
      env: { STRATA_CONFIG_NODE_ID: '0', STRATA_CONFIG_ADVERTISED_LISTENERS: listeners.map((l) => `${l.name}://broker-0.example:${l.port}`).join(',') },
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new InvalidSpecError('spec.config', e.message);
    throw e;
  }
  const hashOf = (t: string) => createHash('sha256').update(t).digest('hex').slice(0, 16);
  return { properties, hash: hashOf(properties), restartHash: hashOf(hashed), live, listeners, s3Credentials };
}
