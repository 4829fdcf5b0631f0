// Topic-level configuration: every non-internal topic key Kafka 4.x documents, each with the
// broker key(s) that supply its default. CreateTopics, AlterConfigs and IncrementalAlterConfigs
// validate with validateTopicConfigs and answer INVALID_CONFIG (error code 40) with its message;
// the log reads effectiveTopicConfig; DescribeConfigs lists describeTopicConfigs.
//
// message.downconversion.enable is absent on purpose: Kafka 4.0 removed it with the old record
// formats, and Kafka 4 refuses it as an unknown topic config; so does Strata.
import type { BrokerConfig } from './broker-config.js';
import { ConfigError } from './errors.js';
import { brokerKey, brokerKeyValue } from './keys.js';
import {
  atLeast,
  between,
  bool,
  camelCase,
  checkValue,
  choice,
  choiceList,
  closestNames,
  ConfigSource,
  custom,
  describeConfigType,
  double,
  formatValue,
  int,
  list,
  long,
  LONG_NEVER,
  parseValue,
  type AnyKeyDef,
  type ConfigEntry,
  type ConfigSynonym,
  type KeyDef,
  type ValuesOf,
} from './value-types.js';

export interface TopicKeyDef<N extends string = string, V = unknown> extends KeyDef<N, V> {
  /** Broker keys that supply the default, highest precedence first (Kafka's synonyms). Empty
   *  when the default is fixed. */
  readonly brokerKeys: readonly string[];
  /** The default taken from a loaded broker config; undefined when the default is fixed. */
  readonly fromBroker: ((broker: BrokerConfig) => V) | undefined;
}

function topic<N extends string, V>(def: KeyDef<N, V>, brokerKeys: readonly string[], fromBroker?: (broker: BrokerConfig) => V): TopicKeyDef<N, V> {
  return { ...def, brokerKeys, fromBroker };
}

// Kafka rates every topic key MEDIUM.
const T = { group: 'topic', importance: 'medium' } as const;
const MiB = 1024 * 1024;
const SINGLE_NODE = 'Strata runs as a single node: there is no other broker and no follower replica.';

const THROTTLED_REPLICAS = custom<readonly string[]>("'*' or partitionId:brokerId entries", (entries) => {
  if (entries.length === 1 && entries[0] === '*') return null;
  const bad = entries.find((e) => !/^\d+:\d+$/.test(e));
  return bad === undefined ? null : `'${bad}' is not partitionId:brokerId`;
});

export const TOPIC_KEYS = [
  topic(
    choiceList('cleanup.policy', ['delete'], ['compact', 'delete'], {
      ...T,
      doc: 'delete removes old segments by retention; compact keeps the latest record per key; both do both. An empty list keeps everything.',
    }),
    ['log.cleanup.policy'],
    (b) => b.logCleanupPolicy,
  ),
  topic(
    int('compression.gzip.level', -1, {
      ...T,
      doc: 'gzip level when compression.type is gzip.',
      validator: custom<number>('-1 (the codec default) or 1 to 9', (n) => (n === -1 || (n >= 1 && n <= 9) ? null : `${n} is not a gzip level`)),
    }),
    ['compression.gzip.level'],
    (b) => b.compressionGzipLevel,
  ),
  topic(
    int('compression.lz4.level', 9, {
      ...T,
      doc: "lz4 level when compression.type is lz4. Strata's lz4 encoder has one mode, lz4's fast one (Kafka's level 1): 1 and the default 9 are accepted and both compress that way; other levels are refused.",
      validator: between(1, 17),
    }),
    ['compression.lz4.level'],
    (b) => b.compressionLz4Level,
  ),
  topic(
    choice('compression.type', 'producer', ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'], {
      ...T,
      doc: 'Codec the topic\'s batches are stored with; producer keeps the producer\'s choice, anything else recompresses on append.',
    }),
    ['compression.type'],
    (b) => b.compressionType,
  ),
  topic(
    int('compression.zstd.level', 3, { ...T, doc: 'zstd level when compression.type is zstd.', validator: between(-131072, 22) }),
    ['compression.zstd.level'],
    (b) => b.compressionZstdLevel,
  ),
  topic(
    long('delete.retention.ms', 86400000, {
      ...T,
      doc: 'How long compaction keeps tombstones, which is also how long a consumer reading from the start has to see a deletion.',
      validator: atLeast(0),
    }),
    ['log.cleaner.delete.retention.ms'],
    (b) => b.logCleanerDeleteRetentionMs,
  ),
  topic(
    long('file.delete.delay.ms', 60000, { ...T, doc: 'How long a removed segment stays on disk so that reads under way can finish.', validator: atLeast(0) }),
    ['log.segment.delete.delay.ms'],
    (b) => b.logSegmentDeleteDelayMs,
  ),
  topic(
    long('flush.messages', LONG_NEVER, { ...T, doc: 'Records appended before the partition is fsynced; never leaves it to the OS.', validator: atLeast(1) }),
    ['log.flush.interval.messages'],
    (b) => b.logFlushIntervalMessages,
  ),
  topic(
    long('flush.ms', LONG_NEVER, { ...T, doc: 'Longest time appended records wait before the partition is fsynced; never leaves it to the OS.', validator: atLeast(0) }),
    ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
    (b) => b.logFlushIntervalMs,
  ),
  topic(
    list('follower.replication.throttled.replicas', [], { ...T, doc: 'Replicas whose follower fetches are throttled.', validator: THROTTLED_REPLICAS, inert: true, inertReason: SINGLE_NODE }),
    [],
  ),
  topic(
    int('index.interval.bytes', 4096, { ...T, doc: 'Bytes of records between two offset index entries.', validator: atLeast(0) }),
    ['log.index.interval.bytes'],
    (b) => b.logIndexIntervalBytes,
  ),
  topic(
    list('leader.replication.throttled.replicas', [], { ...T, doc: 'Replicas whose leader-side replication is throttled.', validator: THROTTLED_REPLICAS, inert: true, inertReason: SINGLE_NODE }),
    [],
  ),
  topic(
    long('local.retention.bytes', -2, {
      ...T,
      doc: 'With tiered storage, local size beyond which uploaded segments are deleted locally; -2 means retention.bytes.',
      validator: atLeast(-2),
    }),
    ['log.local.retention.bytes'],
    (b) => b.logLocalRetentionBytes,
  ),
  topic(
    long('local.retention.ms', -2, {
      ...T,
      doc: 'With tiered storage, age after which uploaded segments are deleted locally; -2 means retention.ms.',
      validator: atLeast(-2),
    }),
    ['log.local.retention.ms'],
    (b) => b.logLocalRetentionMs,
  ),
  topic(
    long('max.compaction.lag.ms', LONG_NEVER, { ...T, doc: 'Oldest an uncompacted record may get before its segment is compacted regardless of the dirty ratio.', validator: atLeast(1) }),
    ['log.cleaner.max.compaction.lag.ms'],
    (b) => b.logCleanerMaxCompactionLagMs,
  ),
  topic(
    int('max.message.bytes', 1048588, { ...T, doc: 'Largest record batch (after compression) the topic accepts; larger ones get MESSAGE_TOO_LARGE.', validator: atLeast(0) }),
    ['message.max.bytes'],
    (b) => b.messageMaxBytes,
  ),
  topic(
    long('message.timestamp.after.max.ms', 3600000, {
      ...T,
      doc: 'With CreateTime, how far in the future a record timestamp may be before its batch is refused with INVALID_TIMESTAMP.',
      validator: atLeast(0),
    }),
    ['log.message.timestamp.after.max.ms'],
    (b) => b.logMessageTimestampAfterMaxMs,
  ),
  topic(
    long('message.timestamp.before.max.ms', LONG_NEVER, {
      ...T,
      doc: 'With CreateTime, how far in the past a record timestamp may be before its batch is refused with INVALID_TIMESTAMP.',
      validator: atLeast(0),
    }),
    ['log.message.timestamp.before.max.ms'],
    (b) => b.logMessageTimestampBeforeMaxMs,
  ),
  topic(
    choice('message.timestamp.type', 'CreateTime', ['CreateTime', 'LogAppendTime'], {
      ...T,
      doc: "CreateTime keeps the producer's timestamps; LogAppendTime replaces them with the broker's clock on append.",
    }),
    ['log.message.timestamp.type'],
    (b) => b.logMessageTimestampType,
  ),
  topic(
    double('min.cleanable.dirty.ratio', 0.5, { ...T, doc: 'Share of the log that must be uncompacted before compaction picks it.', validator: between(0, 1) }),
    ['log.cleaner.min.cleanable.ratio'],
    (b) => b.logCleanerMinCleanableRatio,
  ),
  topic(
    long('min.compaction.lag.ms', 0, { ...T, doc: 'Youngest a record may be and still be compacted away; at most max.compaction.lag.ms.', validator: atLeast(0) }),
    ['log.cleaner.min.compaction.lag.ms'],
    (b) => b.logCleanerMinCompactionLagMs,
  ),
  topic(
    int('min.insync.replicas', 1, { ...T, doc: 'With acks=all, the in-sync replicas a batch needs before it is acknowledged (capped at the replica count, as Kafka does since 3.7); otherwise NOT_ENOUGH_REPLICAS.', validator: atLeast(1) }),
    ['min.insync.replicas'],
    (b) => b.minInsyncReplicas,
  ),
  topic(
    bool('preallocate', false, { ...T, doc: 'Whether new segment files are allocated at full size up front. Strata does not preallocate: true is refused with INVALID_CONFIG.' }),
    ['log.preallocate'],
    (b) => b.logPreallocate,
  ),
  topic(
    bool('remote.log.copy.disable', false, {
      ...T,
      doc:
        'With remote.storage.enable=true, stop uploading segments (KIP-950): what was uploaded stays readable and remote retention goes on, and local segments then go by retention.* (local.retention.* must be -2 or equal to retention.*).',
    }),
    [],
  ),
  topic(
    bool('remote.log.delete.on.disable', false, {
      ...T,
      doc: 'Must be true, set together with remote.storage.enable=false, to turn tiered storage off for a topic (KIP-950): its uploaded segments are then deleted in the background and the log start moves up to the first local offset.',
    }),
    [],
  ),
  topic(bool('remote.storage.enable', false, { ...T, doc: 'Whether the topic\'s closed segments move to object storage (needs remote.log.storage.system.enable on the broker).' }), []),
  topic(
    long('retention.bytes', -1, { ...T, doc: 'Size a partition may reach before its oldest segments are deleted (delete policy); -1 means no size limit.' }),
    ['log.retention.bytes'],
    (b) => b.logRetentionBytes,
  ),
  topic(
    long('retention.ms', 604800000, { ...T, doc: 'Age after which closed segments are deleted (delete policy); -1 means no time limit.', validator: atLeast(-1) }),
    ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
    (b) => b.logRetentionMs,
  ),
  topic(
    int('segment.bytes', 1024 * MiB, { ...T, doc: 'Size at which the active segment is closed and a new one started.', validator: atLeast(MiB) }),
    ['log.segment.bytes'],
    (b) => b.logSegmentBytes,
  ),
  topic(
    int('segment.index.bytes', 10 * MiB, { ...T, doc: "Largest size of a segment's offset index; a full index rolls the segment.", validator: atLeast(4) }),
    ['log.index.size.max.bytes'],
    (b) => b.logIndexSizeMaxBytes,
  ),
  topic(
    long('segment.jitter.ms', 0, { ...T, doc: 'Up to this much is subtracted at random from segment.ms, so that segments created together do not roll together.', validator: atLeast(0) }),
    ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
    (b) => b.logRollJitterMs,
  ),
  topic(
    long('segment.ms', 604800000, { ...T, doc: 'Age at which the active segment is rolled even if not full, so that retention can delete it.', validator: atLeast(1) }),
    ['log.roll.ms', 'log.roll.hours'],
    (b) => b.logRollMs,
  ),
  topic(
    bool('unclean.leader.election.enable', false, { ...T, doc: 'Whether a replica outside the ISR may become leader, at the cost of lost records.', inert: true, inertReason: SINGLE_NODE }),
    ['unclean.leader.election.enable'],
    (b) => b.uncleanLeaderElectionEnable,
  ),
] as const;

/** Every topic setting resolved: an override, else the broker's default, else the fixed one. */
export type TopicConfig = ValuesOf<typeof TOPIC_KEYS>;

/** The broker keys that may change at run time (IncrementalAlterConfigs on a BROKER resource):
 *  those that are topic config defaults. broker/server/dynamic-config.ts enforces it; the operator
 *  reads it to apply such keys without restarting a broker. */
export const DYNAMIC_BROKER_KEYS: ReadonlySet<string> = new Set(TOPIC_KEYS.flatMap((t) => t.brokerKeys));

/**
 * Values Strata cannot honour, refused with INVALID_CONFIG naming the key when CreateTopics,
 * AlterConfigs or IncrementalAlterConfigs ask for them; each returns why, or null. This is the one
 * place to lift a refusal once the feature exists. Stored overrides are not checked against it, so
 * a topic keeps opening if a later build refuses what an earlier one took.
 */
const UNHONOURED_VALUES: Readonly<Record<string, (value: unknown) => string | null>> = {
  preallocate: (v) =>
    v === true ? 'Strata does not preallocate segment files: it writes segments and exact-size indexes without mmap, where allocating up front gains nothing' : null,
  'compression.lz4.level': (v) =>
    v === 1 || v === 9
      ? null
      : "Strata's lz4 encoder has a single compression mode (lz4's fast one, Kafka's level 1), so it cannot honour another level; 1 and the default 9 are accepted",
};

type AnyTopicKeyDef = TopicKeyDef<string, unknown>;
const BY_NAME: ReadonlyMap<string, AnyTopicKeyDef> = new Map(TOPIC_KEYS.map((k) => [k.name, k as AnyTopicKeyDef]));

export function topicKey(name: string): AnyTopicKeyDef | undefined {
  return BY_NAME.get(name);
}

export type TopicConfigCheck =
  | { readonly ok: true; /** Parsed values by Kafka key name. */ readonly values: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly key: string; readonly message: string };

/** Why `name` is not a topic key, with the nearest topic keys or the broker key it resembles. */
function unknownTopicKeyMessage(name: string): string {
  const asBroker = TOPIC_KEYS.find((t) => t.brokerKeys.includes(name));
  if (asBroker !== undefined) return `unknown topic config '${name}': that is a broker key; the topic-level key is ${asBroker.name}`;
  const near = closestNames(name, BY_NAME.keys());
  return `unknown topic config '${name}'${near.length > 0 ? `; did you mean ${near.join(' or ')}?` : ''}`;
}

/** Checks a topic's configs as CreateTopics and AlterConfigs receive them; for
 *  IncrementalAlterConfigs, pass the topic's stored configs with the changes applied. The first
 *  problem is returned as data (INVALID_CONFIG for that key); Kafka answers null values and
 *  unknown keys the same way. With `broker`, the cross-key rule (min.compaction.lag.ms <=
 *  max.compaction.lag.ms) compares against the broker's defaults for keys not given; without it,
 *  against the fixed topic defaults. */
export function validateTopicConfigs(entries: Readonly<Record<string, string | null>>, broker?: BrokerConfig, opts: { refuseUnhonoured?: boolean } = {}): TopicConfigCheck {
  const values: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(entries)) {
    const def = topicKey(key);
    if (def === undefined) return { ok: false, key, message: unknownTopicKeyMessage(key) };
    if (text === null) return { ok: false, key, message: `${key} has a null value; topic configs need one` };
    const r = parseValue(def, text);
    if (!r.ok) return { ok: false, key, message: `invalid value '${text.trim()}' for ${key}: ${r.problem}` };
    const refused = opts.refuseUnhonoured === false ? null : (UNHONOURED_VALUES[key]?.(r.value) ?? null);
    if (refused !== null) return { ok: false, key, message: `invalid value '${text.trim()}' for ${key}: ${refused}` };
    values[key] = r.value;
  }
  const valueOf = (name: string): unknown => {
    if (name in values) return values[name];
    const def = topicKey(name)!;
    return broker !== undefined && def.fromBroker !== undefined ? def.fromBroker(broker) : def.default;
  };
  if ('min.compaction.lag.ms' in values || 'max.compaction.lag.ms' in values) {
    const min = valueOf('min.compaction.lag.ms') as number;
    const max = valueOf('max.compaction.lag.ms') as number;
    if (min > max) {
      const key = 'min.compaction.lag.ms' in values ? 'min.compaction.lag.ms' : 'max.compaction.lag.ms';
      return { ok: false, key, message: `min.compaction.lag.ms (${min}) must not exceed max.compaction.lag.ms (${formatValue(topicKey('max.compaction.lag.ms')!, max)})` };
    }
  }
  return { ok: true, values };
}

/** The settings a topic's log runs with. `overrides` are the topic's stored configs, already
 *  validated when they were set; one that no longer parses is a broken invariant and throws.
 *  They are not checked against the broker's defaults again: a broker restarted with different
 *  defaults must still open every topic it has. */
export function effectiveTopicConfig(broker: BrokerConfig, overrides: Readonly<Record<string, string>>): TopicConfig {
  const check = validateTopicConfigs(overrides, undefined, { refuseUnhonoured: false });
  if (!check.ok) throw new ConfigError(`stored topic config is invalid: ${check.message}`, check.key);
  const out: Record<string, unknown> = {};
  for (const def of BY_NAME.values()) {
    out[camelCase(def.name)] = def.name in check.values ? check.values[def.name] : def.fromBroker !== undefined ? def.fromBroker(broker) : def.default;
  }
  return Object.freeze(out) as unknown as TopicConfig;
}

/** DescribeConfigs for a topic: every topic key with its value and where it came from
 *  (DYNAMIC_TOPIC_CONFIG for an override, STATIC_BROKER_CONFIG when a broker key was set,
 *  DEFAULT_CONFIG otherwise), and the synonyms in precedence order. */
export function describeTopicConfigs(broker: BrokerConfig, overrides: Readonly<Record<string, string>>): ConfigEntry[] {
  const effective = effectiveTopicConfig(broker, overrides) as unknown as Readonly<Record<string, unknown>>;
  return [...BY_NAME.values()].map((def) => {
    const overridden = def.name in overrides;
    const synonyms: ConfigSynonym[] = [];
    if (overridden) synonyms.push({ name: def.name, value: formatValue(def, effective[camelCase(def.name)]), source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    for (const b of def.brokerKeys) synonyms.push(...brokerSynonyms(broker, b));
    const brokerSet = def.brokerKeys.some((b) => broker.raw.has(b));
    const source = overridden ? ConfigSource.DYNAMIC_TOPIC_CONFIG : brokerSet ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    return {
      name: def.name,
      value: def.type === 'password' ? null : formatValue(def, effective[camelCase(def.name)]),
      source,
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      readOnly: false,
      sensitive: def.type === 'password',
      configType: describeConfigType(def.type),
      documentation: def.doc,
      synonyms,
    };
  });
}

/** A broker key's synonym entries: its static value when set, then its declared default. */
export function brokerSynonyms(broker: BrokerConfig, name: string): ConfigSynonym[] {
  const def: AnyKeyDef | undefined = brokerKey(name);
  if (def === undefined) throw new Error(`topic key synonym ${name} is not a declared broker key`);
  const out: ConfigSynonym[] = [];
  const sensitive = def.type === 'password';
  if (broker.raw.has(name)) {
    out.push({ name, value: sensitive ? null : formatValue(def, brokerKeyValue(broker.raw, name)), source: ConfigSource.STATIC_BROKER_CONFIG });
  }
  if (def.default !== null) out.push({ name, value: sensitive ? null : formatValue(def, def.default), source: ConfigSource.DEFAULT_CONFIG });
  return out;
}

// Declarations must hold their own rules: every fixed default passes its validator, and every
// broker key named as a source exists. A failure here is a bug in this file, found at import.
for (const name of Object.keys(UNHONOURED_VALUES)) {
  const def = BY_NAME.get(name);
  if (def === undefined) throw new Error(`UNHONOURED_VALUES names ${name}, which is not a topic key`);
  if (UNHONOURED_VALUES[name]!(def.default) !== null) throw new Error(`topic key ${name}: its own default is refused`);
}
for (const def of BY_NAME.values()) {
  const problem = checkValue(def, def.default);
  if (problem !== null) throw new Error(`topic key ${def.name}: default ${String(def.default)} ${problem}`);
  for (const b of def.brokerKeys) if (brokerKey(b) === undefined) throw new Error(`topic key ${def.name}: broker key ${b} is not declared`);
  if ((def.brokerKeys.length > 0) !== (def.fromBroker !== undefined)) throw new Error(`topic key ${def.name}: brokerKeys and fromBroker go together`);
}
