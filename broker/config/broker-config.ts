// Loads the broker's configuration: declared defaults, then the properties file, then
// STRATA_CONFIG_* environment variables, then --override arguments, each later source winning.
// Every key must be declared (keys.ts); every value must parse and pass its validator; then the
// values Kafka derives from several keys are derived the way Kafka does, and the relations
// between keys are checked. The first problem is thrown as a ConfigError naming the key; start-up
// prints it and exits. Inert keys and other harmless oddities come back as warnings.
import { readFileSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ConfigError } from './errors.js';
import { BROKER_KEYS, brokerKey, brokerKeyValue } from './keys.js';
import {
  formatHostPort,
  isIpv4Literal,
  isIpv6Literal,
  isWildcardHost,
  parseEndpoint,
  parseHostPort,
  parseProtocolMapEntry,
  SUPPORTED_SECURITY_PROTOCOLS,
  type Endpoint,
  type HostPort,
  type Listener,
  type SecurityProtocol,
  type SupportedSecurityProtocol,
} from './listeners.js';
import { parseProperties, PROPERTIES_TEXT_MAX_CHARS } from './properties.js';
import { TOPIC_KEYS, topicKey } from './topic-keys.js';
import {
  camelCase,
  checkValue,
  closestNames,
  ConfigSource,
  describeConfigType,
  formatValue,
  parseValue,
  type ConfigEntry,
  type ConfigSynonym,
  type ValuesOf,
} from './value-types.js';

/** Environment variables that set keys: STRATA_CONFIG_LOG_RETENTION_HOURS sets
 *  log.retention.hours (drop the prefix, lower-case, underscores become dots). A prefix of its own
 *  keeps Kubernetes' service-link variables (KAFKA_PORT, STRATA_SERVICE_HOST, ...) out. */
export const ENV_PREFIX = 'STRATA_CONFIG_';

type Declared = ValuesOf<typeof BROKER_KEYS>;

/** Fields whose declared value is replaced by the value derived from it and its synonyms. */
type DerivedField =
  | 'listeners'
  | 'advertisedListeners'
  | 'listenerSecurityProtocolMap'
  | 'nodeId'
  | 'brokerId'
  | 'logDirs'
  | 'logRetentionMs'
  | 'logRollMs'
  | 'logRollJitterMs'
  | 'logFlushIntervalMs'
  | 'strataHttpListener';

interface Derived {
  /** Listeners to open, controller listeners left out; at least one. */
  readonly listeners: readonly Listener[];
  /** What Metadata hands to clients; names are a subset of `listeners`. An empty host means the
   *  machine's hostname, and port 0 the port the listener actually bound. */
  readonly advertisedListeners: readonly Listener[];
  readonly listenerSecurityProtocolMap: ReadonlyMap<string, SecurityProtocol>;
  /** node.id, or broker.id when only that is set. */
  readonly nodeId: number;
  /** Always equal to nodeId (Kafka's older name). */
  readonly brokerId: number;
  /** log.dirs, or log.dir when log.dirs is unset. */
  readonly logDirs: readonly string[];
  /** log.retention.ms, else .minutes, else .hours, in ms; -1 means no time limit. */
  readonly logRetentionMs: number;
  /** log.roll.ms, else log.roll.hours, in ms. */
  readonly logRollMs: number;
  /** log.roll.jitter.ms, else log.roll.jitter.hours, in ms. */
  readonly logRollJitterMs: number;
  /** log.flush.interval.ms, else log.flush.scheduler.interval.ms. */
  readonly logFlushIntervalMs: number;
  readonly strataHttpListener: HostPort;
  /** The bound on bytes of requests read but not answered: queued.max.request.bytes when
   *  positive, else strata.request.memory.max.bytes. Always >= socketRequestMaxBytes. */
  readonly requestMemoryMaxBytes: number;
  /** The text set for each key, by file, environment or override, after precedence. Passwords
   *  appear as [hidden]; their fields hold the secret. DescribeConfigs reads sources from here. */
  readonly raw: ReadonlyMap<string, string>;
}

/** The loaded configuration: one camelCase field per declared key (`log.segment.bytes` →
 *  `logSegmentBytes`), with the derived fields above in place of their raw forms. */
export type BrokerConfig = Omit<Declared, DerivedField> & Derived;

export interface LoadOptions {
  /** Path of a properties file (kafka-server-start's first argument, strata's --config). */
  readonly file?: string;
  /** The file's text, when already read (tests); `file` then only names it in messages. */
  readonly fileText?: string;
  /** --override arguments, each "key=value". */
  readonly overrides?: readonly string[];
  /** The environment to read STRATA_CONFIG_* variables from; none are read when absent. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface LoadResult {
  readonly config: BrokerConfig;
  /** One line each, for start-up to log at warn level. */
  readonly warnings: readonly string[];
}

interface Setting {
  readonly text: string;
  /** Where the text came from, for messages: "server.properties line 4", "--override", ... */
  readonly origin: string;
  readonly line?: number;
}

export function loadBrokerConfig(options: LoadOptions): LoadResult {
  const warnings: string[] = [];
  const settings = collect(options, warnings);

  const parsed = new Map<string, unknown>();
  for (const [key, s] of settings) {
    const def = brokerKey(key);
    if (def === undefined) throw unknownKey(key, s);
    const r = parseValue(def, s.text);
    if (!r.ok) {
      // Never echo a secret, even a malformed one.
      const shown = def.type === 'password' ? '[hidden]' : `'${s.text.trim()}'`;
      throw new ConfigError(`invalid value ${shown} for ${key} (${s.origin}): ${r.problem}`, key, at(s));
    }
    parsed.set(key, r.value);
    if (def.inert) warnings.push(`${key} (${s.origin}) has no effect in Strata: ${def.inertReason}`);
  }

  const declared: Record<string, unknown> = {};
  for (const def of BROKER_KEYS) declared[camelCase(def.name)] = parsed.has(def.name) ? parsed.get(def.name) : def.default;
  const d = declared as unknown as Declared;
  const originOf = (key: string): string => settings.get(key)?.origin ?? 'default';

  // ---- node.id / broker.id: one setting under two names
  if (settings.has('node.id') && d.brokerId !== null && d.nodeId !== d.brokerId) {
    throw new ConfigError(`node.id (${d.nodeId}, ${originOf('node.id')}) and broker.id (${d.brokerId}, ${originOf('broker.id')}) are one setting under two names and must agree`, 'broker.id');
  }
  const nodeId = settings.has('node.id') ? d.nodeId : (d.brokerId ?? d.nodeId);

  // ---- log.dirs / log.dir
  const logDirs = d.logDirs ?? d.logDir;
  if (settings.has('log.dirs') && settings.has('log.dir')) warnings.push(`log.dir (${originOf('log.dir')}) is ignored because log.dirs is set`);

  // ---- retention: ms > minutes > hours; any negative means unlimited (0 is refused per key)
  const retentionRawMs = d.logRetentionMs ?? (d.logRetentionMinutes !== null ? d.logRetentionMinutes * 60_000 : d.logRetentionHours * 3_600_000);
  const logRetentionMs = retentionRawMs < 0 ? -1 : retentionRawMs;

  // ---- roll and jitter: ms > hours
  const logRollMs = d.logRollMs ?? d.logRollHours * 3_600_000;
  const logRollJitterMs = d.logRollJitterMs ?? d.logRollJitterHours * 3_600_000;

  // ---- flush: the interval falls back to the scheduler's
  const logFlushIntervalMs = d.logFlushIntervalMs ?? d.logFlushSchedulerIntervalMs;

  // ---- listeners
  const { listeners, advertisedListeners, protocolMap } = deriveListeners(d, warnings);
  const strataHttpListener = parseHostPort(d.strataHttpListener) as HostPort;
  for (const l of listeners) {
    if (strataHttpListener.port !== 0 && l.port === strataHttpListener.port && hostsOverlap(l.host, strataHttpListener.host)) {
      throw new ConfigError(
        `strata.http.listener (${formatHostPort(strataHttpListener)}) uses the port of listener ${l.name} (${formatHostPort(l)}); give the HTTP endpoint a port of its own`,
        'strata.http.listener',
      );
    }
  }

  // ---- request memory: a request is admitted against the bound before its body is read, so
  // the bound must fit the largest request or that request could never be served.
  let requestMemoryMaxBytes: number;
  if (d.queuedMaxRequestBytes > 0) {
    if (d.queuedMaxRequestBytes < d.socketRequestMaxBytes) {
      throw new ConfigError(
        `queued.max.request.bytes (${d.queuedMaxRequestBytes}) must be at least socket.request.max.bytes (${d.socketRequestMaxBytes}), or 0 or less to use strata.request.memory.max.bytes`,
        'queued.max.request.bytes',
      );
    }
    requestMemoryMaxBytes = d.queuedMaxRequestBytes;
  } else {
    if (d.strataRequestMemoryMaxBytes < d.socketRequestMaxBytes) {
      throw new ConfigError(
        `strata.request.memory.max.bytes (${d.strataRequestMemoryMaxBytes}, ${originOf('strata.request.memory.max.bytes')}) must be at least socket.request.max.bytes (${d.socketRequestMaxBytes}, ${originOf('socket.request.max.bytes')})`,
        settings.has('strata.request.memory.max.bytes') ? 'strata.request.memory.max.bytes' : 'socket.request.max.bytes',
      );
    }
    requestMemoryMaxBytes = d.strataRequestMemoryMaxBytes;
  }

  // ---- other relations Kafka leaves unchecked but that make no sense reversed
  if (d.groupMinSessionTimeoutMs > d.groupMaxSessionTimeoutMs) {
    throw new ConfigError(
      `group.min.session.timeout.ms (${d.groupMinSessionTimeoutMs}) must not exceed group.max.session.timeout.ms (${d.groupMaxSessionTimeoutMs}), or no member could join`,
      settings.has('group.min.session.timeout.ms') ? 'group.min.session.timeout.ms' : 'group.max.session.timeout.ms',
    );
  }
  // The consumer-protocol group bounds, as Kafka's group coordinator checks them at start-up.
  const orderedPairs: [string, number, string, number][] = [
    ['group.consumer.min.session.timeout.ms', d.groupConsumerMinSessionTimeoutMs, 'group.consumer.session.timeout.ms', d.groupConsumerSessionTimeoutMs],
    ['group.consumer.session.timeout.ms', d.groupConsumerSessionTimeoutMs, 'group.consumer.max.session.timeout.ms', d.groupConsumerMaxSessionTimeoutMs],
    ['group.consumer.min.heartbeat.interval.ms', d.groupConsumerMinHeartbeatIntervalMs, 'group.consumer.heartbeat.interval.ms', d.groupConsumerHeartbeatIntervalMs],
    ['group.consumer.heartbeat.interval.ms', d.groupConsumerHeartbeatIntervalMs, 'group.consumer.max.heartbeat.interval.ms', d.groupConsumerMaxHeartbeatIntervalMs],
  ];
  for (const [lowKey, low, highKey, high] of orderedPairs) {
    if (low > high) throw new ConfigError(`${lowKey} (${low}) must not exceed ${highKey} (${high})`, settings.has(lowKey) ? lowKey : highKey);
  }
  if (d.groupConsumerHeartbeatIntervalMs >= d.groupConsumerSessionTimeoutMs) {
    throw new ConfigError(
      `group.consumer.heartbeat.interval.ms (${d.groupConsumerHeartbeatIntervalMs}) must be below group.consumer.session.timeout.ms (${d.groupConsumerSessionTimeoutMs})`,
      settings.has('group.consumer.heartbeat.interval.ms') ? 'group.consumer.heartbeat.interval.ms' : 'group.consumer.session.timeout.ms',
    );
  }
  if (!d.groupCoordinatorRebalanceProtocols.includes('classic')) {
    throw new ConfigError('group.coordinator.rebalance.protocols must include classic (allowed: classic, consumer)', 'group.coordinator.rebalance.protocols');
  }
  if (d.logCleanerMinCompactionLagMs > d.logCleanerMaxCompactionLagMs) {
    throw new ConfigError(
      `log.cleaner.min.compaction.lag.ms (${d.logCleanerMinCompactionLagMs}) must not exceed log.cleaner.max.compaction.lag.ms (${formatValue(brokerKey('log.cleaner.max.compaction.lag.ms')!, d.logCleanerMaxCompactionLagMs)})`,
      settings.has('log.cleaner.min.compaction.lag.ms') ? 'log.cleaner.min.compaction.lag.ms' : 'log.cleaner.max.compaction.lag.ms',
    );
  }

  // Tiered storage needs somewhere to put segments; an S3 store without a bucket cannot start.
  if (d.remoteLogStorageSystemEnable && d.strataTieredStore === 's3' && d.strataTieredS3Bucket === null) {
    throw new ConfigError('strata.tiered.store=s3 needs strata.tiered.s3.bucket (remote.log.storage.system.enable is true)', 'strata.tiered.s3.bucket');
  }
  // The read cache's directory is wiped at start-up: it must be a directory of its own.
  if (d.strataTieredCacheDir !== null) {
    const cacheDir = resolvePath(d.strataTieredCacheDir);
    const taken = [...logDirs, ...(d.strataTieredLocalDir === null ? [] : [d.strataTieredLocalDir])].map((x) => resolvePath(x));
    if (taken.includes(cacheDir)) {
      throw new ConfigError(`strata.tiered.cache.dir (${d.strataTieredCacheDir}) must be a directory of its own, not a log directory or strata.tiered.local.dir`, 'strata.tiered.cache.dir');
    }
  }
  if (d.remoteLogManagerTaskRetryBackoffMs > d.remoteLogManagerTaskRetryBackoffMaxMs) {
    throw new ConfigError(
      `remote.log.manager.task.retry.backoff.ms (${d.remoteLogManagerTaskRetryBackoffMs}) must not exceed remote.log.manager.task.retry.backoff.max.ms (${d.remoteLogManagerTaskRetryBackoffMaxMs})`,
      settings.has('remote.log.manager.task.retry.backoff.ms') ? 'remote.log.manager.task.retry.backoff.ms' : 'remote.log.manager.task.retry.backoff.max.ms',
    );
  }

  const raw = new Map<string, string>();
  for (const [key, s] of settings) raw.set(key, brokerKey(key)!.type === 'password' ? '[hidden]' : s.text);

  const config: BrokerConfig = Object.freeze({
    ...d,
    listeners,
    advertisedListeners,
    listenerSecurityProtocolMap: protocolMap,
    nodeId,
    brokerId: nodeId,
    logDirs,
    logRetentionMs,
    logRollMs,
    logRollJitterMs,
    logFlushIntervalMs,
    strataHttpListener,
    requestMemoryMaxBytes,
    raw,
  });

  // The broker values become topic defaults; they must pass the topic keys' own rules, which is
  // how Kafka validates broker log settings too. Name the broker key(s) that supplied the value.
  for (const t of TOPIC_KEYS) {
    if (t.fromBroker === undefined) continue;
    const problem = checkValue(t, (t.fromBroker as (b: BrokerConfig) => unknown)(config));
    if (problem !== null) {
      const key = t.brokerKeys.find((k) => settings.has(k)) ?? t.brokerKeys[0]!;
      throw new ConfigError(`${key} (${originOf(key)}) gives topic default ${t.name} a value that ${problem}`, key);
    }
  }
  return { config, warnings };
}

function at(s: Setting): { line?: number } {
  return s.line === undefined ? {} : { line: s.line };
}

/** Gathers key → text from the file, the environment and the overrides, later sources winning. */
function collect(options: LoadOptions, warnings: string[]): Map<string, Setting> {
  const settings = new Map<string, Setting>();
  if (options.file !== undefined || options.fileText !== undefined) {
    const label = options.file ?? 'config text';
    let text = options.fileText;
    if (text === undefined) {
      try {
        // Refuse a huge file before reading it, not after.
        const bytes = statSync(options.file!).size;
        if (bytes > PROPERTIES_TEXT_MAX_CHARS) {
          throw new ConfigError(`config file ${options.file} has ${bytes} bytes, more than the ${PROPERTIES_TEXT_MAX_CHARS} a config file may have`, null);
        }
        text = readFileSync(options.file!, 'utf8');
      } catch (cause) {
        if (cause instanceof ConfigError) throw cause;
        throw new ConfigError(`cannot read config file ${options.file}: ${(cause as Error).message}`, null, { cause });
      }
    }
    for (const e of parseProperties(text, label)) {
      const earlier = settings.get(e.key);
      if (earlier !== undefined) warnings.push(`${e.key} is set twice in ${label} (${earlier.origin} and line ${e.line}); the later value is used`);
      settings.set(e.key, { text: e.value, origin: `${label} line ${e.line}`, line: e.line });
    }
  }
  const env = options.env ?? {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const key = name.slice(ENV_PREFIX.length).toLowerCase().replace(/_/g, '.');
    settings.set(key, { text: value, origin: `environment variable ${name}` });
  }
  for (const o of options.overrides ?? []) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? '' : o.slice(0, eq).trim();
    if (key === '') throw new ConfigError(`--override '${o}' is not key=value`, null);
    settings.set(key, { text: o.slice(eq + 1), origin: '--override' });
  }
  return settings;
}

function unknownKey(key: string, s: Setting): ConfigError {
  let hint: string;
  const t = topicKey(key);
  if (t !== undefined) {
    hint =
      t.brokerKeys.length > 0
        ? `; ${key} is a topic-level key: set it per topic, or set its broker-wide default ${t.brokerKeys[0]}`
        : `; ${key} is a topic-level key with no broker-wide default: set it per topic`;
  } else {
    const near = closestNames(
      key,
      BROKER_KEYS.map((k) => k.name),
    );
    hint = near.length > 0 ? `; did you mean ${near.join(' or ')}?` : '';
  }
  return new ConfigError(`unknown config key '${key}' (${s.origin})${hint}`, key, at(s));
}

function hostsOverlap(a: string, b: string): boolean {
  return a === b || a === '' || b === '' || isWildcardHost(a) || isWildcardHost(b);
}

function deriveListeners(
  d: Declared,
  warnings: string[],
): { listeners: Listener[]; advertisedListeners: Listener[]; protocolMap: Map<string, SecurityProtocol> } {
  const protocolMap = new Map<string, SecurityProtocol>();
  for (const entry of d.listenerSecurityProtocolMap) {
    const r = parseProtocolMapEntry(entry) as { name: string; protocol: SecurityProtocol };
    if (protocolMap.has(r.name)) throw new ConfigError(`listener.security.protocol.map names listener ${r.name} twice`, 'listener.security.protocol.map');
    protocolMap.set(r.name, r.protocol);
  }
  const controllerNames = new Set((d.controllerListenerNames ?? []).map((n) => n.toUpperCase()));

  const all = d.listeners.map((e) => parseEndpoint(e) as Endpoint);
  const seen = new Set<string>();
  for (const l of all) {
    if (seen.has(l.name)) throw new ConfigError(`listeners names ${l.name} twice; each listener needs a name of its own`, 'listeners');
    seen.add(l.name);
  }
  const ignored = all.filter((l) => controllerNames.has(l.name)).map((l) => l.name);
  if (ignored.length > 0) {
    warnings.push(`listeners ${ignored.join(', ')} are named in controller.listener.names and are not opened: Strata has no KRaft controller`);
  }
  const listeners: Listener[] = [];
  for (const e of all) {
    if (controllerNames.has(e.name)) continue;
    const protocol = protocolMap.get(e.name);
    if (protocol === undefined) {
      throw new ConfigError(`listeners: listener ${e.name} has no security protocol; add ${e.name}:PLAINTEXT to listener.security.protocol.map`, 'listeners');
    }
    if (!(SUPPORTED_SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
      throw new ConfigError(
        `listeners: listener ${e.name} maps to ${protocol} in listener.security.protocol.map; Strata serves only ${SUPPORTED_SECURITY_PROTOCOLS.join(', ')} listeners today`,
        'listeners',
      );
    }
    listeners.push({ ...e, securityProtocol: protocol as SupportedSecurityProtocol });
  }
  if (listeners.length === 0) throw new ConfigError('listeners: no listener is left to serve clients once controller listeners are left out', 'listeners');
  // Two listeners may share a port only when one binds an IPv4 address and the other an IPv6
  // one (Kafka's rule); port 0 is always a fresh port.
  for (let i = 0; i < listeners.length; i++) {
    for (let j = i + 1; j < listeners.length; j++) {
      const a = listeners[i]!;
      const b = listeners[j]!;
      const splitFamilies = (isIpv4Literal(a.host) && isIpv6Literal(b.host)) || (isIpv6Literal(a.host) && isIpv4Literal(b.host));
      if (a.port !== 0 && a.port === b.port && !splitFamilies) {
        throw new ConfigError(`listeners ${a.name} and ${b.name} both use port ${a.port}`, 'listeners');
      }
    }
  }

  const byName = new Map(listeners.map((l) => [l.name, l]));
  const explicit = d.advertisedListeners !== null;
  const key = explicit ? 'advertised.listeners' : 'listeners';
  const advertised: Listener[] = [];
  const advertisedNames = new Set<string>();
  for (const e of explicit ? d.advertisedListeners!.map((x) => parseEndpoint(x) as Endpoint) : listeners) {
    if (controllerNames.has(e.name)) continue;
    const served = byName.get(e.name);
    if (served === undefined) {
      throw new ConfigError(`advertised.listeners names ${e.name}, which is not among listeners (${[...byName.keys()].join(', ')})`, 'advertised.listeners');
    }
    if (advertisedNames.has(e.name)) throw new ConfigError(`advertised.listeners names ${e.name} twice`, 'advertised.listeners');
    advertisedNames.add(e.name);
    if (isWildcardHost(e.host)) {
      throw new ConfigError(
        explicit
          ? `advertised.listeners: ${e.name} advertises ${e.host}, which clients cannot connect to; advertise a routable address`
          : `listeners: ${e.name} binds ${e.host}, which clients cannot connect to; set advertised.listeners to a routable address`,
        key,
      );
    }
    if (explicit && e.port === 0) throw new ConfigError(`advertised.listeners: ${e.name} advertises port 0; advertise the port clients connect to`, key);
    advertised.push({ ...e, securityProtocol: served.securityProtocol });
  }
  return { listeners, advertisedListeners: advertised, protocolMap };
}

/** DescribeConfigs for the broker resource: every declared key with its value, its source
 *  (STATIC_BROKER_CONFIG when set, else DEFAULT_CONFIG) and its synonyms, all read-only here;
 *  broker/server/dynamic-config.ts marks the keys that can change at run time and the dynamic
 *  layers they come from. Password keys are sensitive and never show a value. */
export function describeBrokerConfigs(config: BrokerConfig): ConfigEntry[] {
  return BROKER_KEYS.map((def) => {
    const sensitive = def.type === 'password';
    const synonyms: ConfigSynonym[] = [];
    for (const name of [def.name, ...def.fallbacks]) {
      const syn = brokerKey(name)!;
      const hidden = syn.type === 'password';
      if (config.raw.has(name)) {
        synonyms.push({ name, value: hidden ? null : formatValue(syn, brokerKeyValue(config.raw, name)), source: ConfigSource.STATIC_BROKER_CONFIG });
      }
      if (syn.default !== null) synonyms.push({ name, value: hidden ? null : formatValue(syn, syn.default), source: ConfigSource.DEFAULT_CONFIG });
    }
    const source = config.raw.has(def.name) ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    return {
      name: def.name,
      value: sensitive ? null : formatValue(def, brokerKeyValue(config.raw, def.name)),
      source,
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      readOnly: true,
      sensitive,
      configType: describeConfigType(def.type),
      documentation: def.doc,
      synonyms,
    };
  });
}
