import { describe, expect, expectTypeOf, it } from 'vitest';
import { loadBrokerConfig } from './broker-config.js';
import { describeTopicConfigs, effectiveTopicConfig, TOPIC_KEYS, topicKey, validateTopicConfigs } from './topic-keys.js';
import { ConfigError } from './errors.js';
import { camelCase, ConfigSource, LONG_NEVER } from './value-types.js';

const broker = (...overrides: string[]) => loadBrokerConfig({ overrides }).config;

describe('topic keys', () => {
  it("cover the topic configs Kafka 4 documents, each with its broker default's source", () => {
    const sources = Object.fromEntries(TOPIC_KEYS.map((k) => [k.name, k.brokerKeys]));
    expect(sources).toMatchObject({
      'cleanup.policy': ['log.cleanup.policy'],
      'compression.type': ['compression.type'],
      'delete.retention.ms': ['log.cleaner.delete.retention.ms'],
      'file.delete.delay.ms': ['log.segment.delete.delay.ms'],
      'flush.messages': ['log.flush.interval.messages'],
      'flush.ms': ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
      'index.interval.bytes': ['log.index.interval.bytes'],
      'max.compaction.lag.ms': ['log.cleaner.max.compaction.lag.ms'],
      'max.message.bytes': ['message.max.bytes'],
      'message.timestamp.type': ['log.message.timestamp.type'],
      'message.timestamp.before.max.ms': ['log.message.timestamp.before.max.ms'],
      'message.timestamp.after.max.ms': ['log.message.timestamp.after.max.ms'],
      'min.cleanable.dirty.ratio': ['log.cleaner.min.cleanable.ratio'],
      'min.compaction.lag.ms': ['log.cleaner.min.compaction.lag.ms'],
      'min.insync.replicas': ['min.insync.replicas'],
      preallocate: ['log.preallocate'],
      'retention.bytes': ['log.retention.bytes'],
      'retention.ms': ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
      'segment.bytes': ['log.segment.bytes'],
      'segment.index.bytes': ['log.index.size.max.bytes'],
      'segment.jitter.ms': ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
      'segment.ms': ['log.roll.ms', 'log.roll.hours'],
      'unclean.leader.election.enable': ['unclean.leader.election.enable'],
      'remote.storage.enable': [],
      'local.retention.ms': ['log.local.retention.ms'],
      'local.retention.bytes': ['log.local.retention.bytes'],
    });
    // Removed in Kafka 4.0 along with the old record formats.
    expect(topicKey('message.downconversion.enable')).toBeUndefined();
  });

  it("fixed defaults agree with the defaults the broker keys give, as Kafka's do", () => {
    const b = broker();
    for (const def of TOPIC_KEYS) {
      if (def.fromBroker !== undefined) expect((def.fromBroker as (x: typeof b) => unknown)(b), def.name).toEqual(def.default);
    }
  });
});

describe('validateTopicConfigs', () => {
  it('parses valid values by Kafka name', () => {
    expect(validateTopicConfigs({ 'retention.ms': '-1', 'cleanup.policy': 'compact,delete', 'min.cleanable.dirty.ratio': '0.1', preallocate: 'FALSE' })).toEqual({
      ok: true,
      values: { 'retention.ms': -1, 'cleanup.policy': ['compact', 'delete'], 'min.cleanable.dirty.ratio': 0.1, preallocate: false },
    });
    // Topic-level retention may be 0, unlike the broker's (Kafka's ranges differ the same way).
    expect(validateTopicConfigs({ 'retention.ms': '0' }).ok).toBe(true);
    expect(validateTopicConfigs({ 'cleanup.policy': '' })).toEqual({ ok: true, values: { 'cleanup.policy': [] } });
    expect(validateTopicConfigs({ 'leader.replication.throttled.replicas': '*' }).ok).toBe(true);
    expect(validateTopicConfigs({ 'leader.replication.throttled.replicas': '0:1,1:1' }).ok).toBe(true);
  });

  it('answers an unknown key with the nearest topic keys, or the topic key of a broker key', () => {
    expect(validateTopicConfigs({ 'retention.msec': '1' })).toEqual({ ok: false, key: 'retention.msec', message: "unknown topic config 'retention.msec'; did you mean retention.ms?" });
    expect(validateTopicConfigs({ 'log.segment.bytes': '1' })).toEqual({
      ok: false,
      key: 'log.segment.bytes',
      message: "unknown topic config 'log.segment.bytes': that is a broker key; the topic-level key is segment.bytes",
    });
    expect(validateTopicConfigs({ 'message.downconversion.enable': 'true' })).toMatchObject({ ok: false, key: 'message.downconversion.enable' });
  });

  it('answers a null value and invalid values naming the key, the value and what is allowed', () => {
    expect(validateTopicConfigs({ 'segment.ms': null })).toEqual({ ok: false, key: 'segment.ms', message: 'segment.ms has a null value; topic configs need one' });
    const cases: [string, string, string][] = [
      ['segment.bytes', '1000', "invalid value '1000' for segment.bytes: must be at least 1048576"],
      ['retention.ms', '-2', "invalid value '-2' for retention.ms: must be at least -1"],
      ['retention.bytes', 'lots', "invalid value 'lots' for retention.bytes: expected a long (a whole number; 9223372036854775807 means never)"],
      ['min.cleanable.dirty.ratio', '1.1', "invalid value '1.1' for min.cleanable.dirty.ratio: must be from 0 to 1"],
      ['preallocate', 'on', "invalid value 'on' for preallocate: expected true or false"],
      ['message.timestamp.type', 'createtime', "invalid value 'createtime' for message.timestamp.type: must be one of: CreateTime, LogAppendTime"],
      ['cleanup.policy', 'compact,trim', "invalid value 'compact,trim' for cleanup.policy: 'trim' is not allowed; entries must be among: compact, delete"],
      ['compression.gzip.level', '0', "invalid value '0' for compression.gzip.level: 0 is not a gzip level (allowed: -1 (the codec default) or 1 to 9)"],
      [
        'follower.replication.throttled.replicas',
        '0-1',
        "invalid value '0-1' for follower.replication.throttled.replicas: '0-1' is not partitionId:brokerId (allowed: '*' or partitionId:brokerId entries)",
      ],
    ];
    for (const [key, text, message] of cases) expect(validateTopicConfigs({ [key]: text }), key).toEqual({ ok: false, key, message });
  });

  it('refuses the values Strata cannot honour, naming the key and why, but opens stored ones', () => {
    for (const [key, text, why] of [
      ['preallocate', 'true', /does not preallocate/],
      ['compression.lz4.level', '5', /single compression mode/],
    ] as const) {
      const r = validateTopicConfigs({ [key]: text });
      expect(r, key).toMatchObject({ ok: false, key });
      expect(r.ok === false && r.message, key).toMatch(new RegExp(`^invalid value '${text}' for ${key.replace(/\./g, '\\.')}: `));
      expect(r.ok === false && r.message, key).toMatch(why);
    }
    for (const [key, text] of [['preallocate', 'false'], ['remote.storage.enable', 'false'], ['compression.lz4.level', '1'], ['compression.lz4.level', '9'], ['remote.log.copy.disable', 'true']]) {
      expect(validateTopicConfigs({ [key!]: text! }).ok, `${key}=${text}`).toBe(true);
    }
    // A topic stored with such a value by an earlier build still opens.
    expect(effectiveTopicConfig(broker(), { preallocate: 'true' }).preallocate).toBe(true);
  });

  it('refuses a minimum compaction lag above the maximum, against the broker default when one is not given', () => {
    expect(validateTopicConfigs({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' })).toEqual({
      ok: false,
      key: 'min.compaction.lag.ms',
      message: 'min.compaction.lag.ms (10) must not exceed max.compaction.lag.ms (5)',
    });
    const b = broker('log.cleaner.max.compaction.lag.ms=100');
    expect(validateTopicConfigs({ 'min.compaction.lag.ms': '200' }).ok).toBe(true);
    expect(validateTopicConfigs({ 'min.compaction.lag.ms': '200' }, b)).toMatchObject({ ok: false, key: 'min.compaction.lag.ms' });
  });
});

describe('effectiveTopicConfig', () => {
  it("resolves every key from the broker's derived defaults", () => {
    const t = effectiveTopicConfig(
      broker('log.retention.minutes=30', 'log.roll.hours=2', 'log.flush.scheduler.interval.ms=1000', 'log.segment.bytes=2097152', 'message.max.bytes=5000'),
      {},
    );
    expect(t.retentionMs).toBe(1_800_000);
    expect(t.segmentMs).toBe(7_200_000);
    expect(t.flushMs).toBe(1000);
    expect(t.flushMessages).toBe(LONG_NEVER);
    expect(t.segmentBytes).toBe(2097152);
    expect(t.maxMessageBytes).toBe(5000);
    expect(t.cleanupPolicy).toEqual(['delete']);
    expect(t.remoteStorageEnable).toBe(false);
    for (const def of TOPIC_KEYS) expect(Object.hasOwn(t, camelCase(def.name)), def.name).toBe(true);
    expectTypeOf(t.compressionType).toEqualTypeOf<'uncompressed' | 'zstd' | 'lz4' | 'snappy' | 'gzip' | 'producer'>();
    expectTypeOf(t.retentionMs).toEqualTypeOf<number>();
  });

  it('lets the topic override win', () => {
    const t = effectiveTopicConfig(broker('log.retention.hours=1'), { 'retention.ms': '5000', 'cleanup.policy': 'compact' });
    expect(t.retentionMs).toBe(5000);
    expect(t.cleanupPolicy).toEqual(['compact']);
  });

  it('throws on a stored override that no longer validates', () => {
    expect(() => effectiveTopicConfig(broker(), { 'segment.bytes': '1' })).toThrow(ConfigError);
    expect(() => effectiveTopicConfig(broker(), { 'segment.bytes': '1' })).toThrow(/stored topic config is invalid: invalid value '1' for segment\.bytes/);
  });
});

describe('describeTopicConfigs', () => {
  it('gives each key its value and source: topic override, static broker key, or default', () => {
    const entries = describeTopicConfigs(broker('log.retention.hours=24', 'log.segment.bytes=2097152'), { 'segment.bytes': '4194304', 'cleanup.policy': 'compact,delete' });
    expect(entries.map((e) => e.name)).toEqual(TOPIC_KEYS.map((k) => k.name));
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get('segment.bytes')).toMatchObject({
      value: '4194304',
      source: ConfigSource.DYNAMIC_TOPIC_CONFIG,
      isDefault: false,
      readOnly: false,
      sensitive: false,
      synonyms: [
        { name: 'segment.bytes', value: '4194304', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
        { name: 'log.segment.bytes', value: '2097152', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'log.segment.bytes', value: '1073741824', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
    expect(byName.get('cleanup.policy')!.value).toBe('compact,delete');
    expect(byName.get('retention.ms')).toMatchObject({
      value: '86400000',
      source: ConfigSource.STATIC_BROKER_CONFIG,
      synonyms: [
        { name: 'log.retention.hours', value: '24', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
    expect(byName.get('flush.messages')).toMatchObject({ value: '9223372036854775807', source: ConfigSource.DEFAULT_CONFIG, isDefault: true, configType: 5 });
    expect(byName.get('remote.storage.enable')).toMatchObject({ value: 'false', source: ConfigSource.DEFAULT_CONFIG, synonyms: [] });
  });
});

describe('stored overrides after a broker restart', () => {
  it('still resolve when the broker default they were checked against has changed', () => {
    // Valid against the default max lag (never); the broker now lowers the maximum below it.
    expect(validateTopicConfigs({ 'min.compaction.lag.ms': '200' }, broker()).ok).toBe(true);
    const t = effectiveTopicConfig(broker('log.cleaner.max.compaction.lag.ms=100'), { 'min.compaction.lag.ms': '200' });
    expect(t.minCompactionLagMs).toBe(200);
  });
});
