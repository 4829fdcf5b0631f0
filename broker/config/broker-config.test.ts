import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { describeBrokerConfigs, loadBrokerConfig, type BrokerConfig, type LoadOptions } from './broker-config.js';
import { ConfigError } from './errors.js';
import { BROKER_KEYS } from './keys.js';
import type { Listener } from './listeners.js';
import { camelCase, ConfigSource, LONG_NEVER, Password } from './value-types.js';

const load = (overrides: string[], more: Omit<LoadOptions, 'overrides'> = {}) => loadBrokerConfig({ ...more, overrides });
const cfg = (...overrides: string[]) => load(overrides).config;

/** The ConfigError a load throws; fails the test when it does not throw. */
function failure(options: LoadOptions): ConfigError {
  try {
    loadBrokerConfig(options);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
const fails = (...overrides: string[]) => failure({ overrides });

// The shape of Kafka 4's KRaft single-node server.properties: a combined broker and controller.
const KAFKA_KRAFT_FILE = `
# A combined Kafka node
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
#log.flush.interval.messages=10000
#log.flush.interval.ms=1000
log.retention.hours=168
#log.retention.bytes=1073741824
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

describe('defaults', () => {
  it('load with nothing set, one field per declared key', () => {
    const { config, warnings } = loadBrokerConfig({});
    expect(warnings).toEqual([]);
    expect(config.raw.size).toBe(0);
    for (const def of BROKER_KEYS) expect(Object.hasOwn(config, camelCase(def.name)), def.name).toBe(true);
    expect(config.listeners).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' }]);
    expect(config.advertisedListeners).toEqual(config.listeners);
    expect(config.nodeId).toBe(1);
    expect(config.brokerId).toBe(1);
    expect(config.logDirs).toEqual(['./data']);
    expect(config.logRetentionMs).toBe(168 * 3_600_000);
    expect(config.logRollMs).toBe(168 * 3_600_000);
    expect(config.logRollJitterMs).toBe(0);
    expect(config.logFlushIntervalMs).toBe(LONG_NEVER);
    expect(config.logFlushIntervalMessages).toBe(LONG_NEVER);
    expect(config.strataHttpListener).toEqual({ host: '127.0.0.1', port: 9644 });
    expect(config.requestMemoryMaxBytes).toBe(256 * 1024 * 1024);
    expect(config.strataClusterId).toBeNull();
    expect(config.logSegmentBytes).toBe(1073741824);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('types every field from its declaration', () => {
    const config = cfg();
    expectTypeOf(config.logSegmentBytes).toEqualTypeOf<number>();
    expectTypeOf(config.logRetentionMinutes).toEqualTypeOf<number | null>();
    expectTypeOf(config.logRetentionMs).toEqualTypeOf<number>();
    expectTypeOf(config.autoCreateTopicsEnable).toEqualTypeOf<boolean>();
    expectTypeOf(config.compressionType).toEqualTypeOf<'uncompressed' | 'zstd' | 'lz4' | 'snappy' | 'gzip' | 'producer'>();
    expectTypeOf(config.logCleanupPolicy).toEqualTypeOf<readonly ('compact' | 'delete')[]>();
    expectTypeOf(config.strataLogLevel).toEqualTypeOf<'trace' | 'debug' | 'info' | 'warn' | 'error'>();
    expectTypeOf(config.listeners).toEqualTypeOf<readonly Listener[]>();
    expectTypeOf(config.sslKeystorePassword).toEqualTypeOf<Password | null>();
    expectTypeOf<BrokerConfig>().toHaveProperty('raw');
  });

  it("load Kafka's own single-node KRaft file, warning about what Strata ignores", () => {
    const { config, warnings } = loadBrokerConfig({ file: 'server.properties', fileText: KAFKA_KRAFT_FILE });
    expect(config.listeners).toEqual([{ name: 'PLAINTEXT', host: '', port: 9092, securityProtocol: 'PLAINTEXT' }]);
    expect(config.advertisedListeners).toEqual([{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 'PLAINTEXT' }]);
    expect(config.logDirs).toEqual(['/tmp/kraft-combined-logs']);
    expect(config.offsetsTopicReplicationFactor).toBe(1);
    const ignored = ['process.roles', 'controller.quorum.bootstrap.servers', 'inter.broker.listener.name', 'controller.listener.names', 'num.network.threads', 'num.io.threads'];
    for (const k of ignored) expect(warnings.some((w) => w.startsWith(`${k} (server.properties line `) && w.includes('has no effect in Strata')), k).toBe(true);
    expect(warnings).toContain('listeners CONTROLLER are named in controller.listener.names and are not opened: Strata has no KRaft controller');
  });
});

describe('sources and precedence', () => {
  const file = 'num.partitions=2\nlog.retention.hours=10\ndefault.replication.factor=1\n';

  it('overrides beat the environment, which beats the file', () => {
    const env = { STRATA_CONFIG_NUM_PARTITIONS: '3', STRATA_CONFIG_LOG_RETENTION_HOURS: '20', UNRELATED: 'x', KAFKA_PORT: 'tcp://10.0.0.1:9092' };
    const { config } = loadBrokerConfig({ fileText: file, env, overrides: ['num.partitions=4'] });
    expect(config.numPartitions).toBe(4);
    expect(config.logRetentionHours).toBe(20);
    expect(config.defaultReplicationFactor).toBe(1);
    expect(config.raw).toEqual(new Map([['num.partitions', '4'], ['log.retention.hours', '20'], ['default.replication.factor', '1']]));
  });

  it('maps STRATA_CONFIG_ variables onto keys, and refuses one that names no key', () => {
    expect(loadBrokerConfig({ env: { STRATA_CONFIG_STRATA_LOG_LEVEL: 'debug' } }).config.strataLogLevel).toBe('debug');
    const err = failure({ env: { STRATA_CONFIG_LOG_RETENTION_HOUR: '1' } });
    expect(err.message).toBe("unknown config key 'log.retention.hour' (environment variable STRATA_CONFIG_LOG_RETENTION_HOUR); did you mean log.retention.hours or log.retention.ms?");
  });

  it('reads the file from disk, and reports one it cannot read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-config-'));
    const p = path.join(dir, 'server.properties');
    writeFileSync(p, 'num.partitions=7\n');
    expect(loadBrokerConfig({ file: p, overrides: [] }).config.numPartitions).toBe(7);
    const err = failure({ file: path.join(dir, 'missing.properties') });
    expect(err.key).toBeNull();
    expect(err.message).toMatch(/^cannot read config file .*missing\.properties: ENOENT/);
    expect(err.cause).toBeDefined();
  });

  it('warns when the file sets a key twice, and uses the later value', () => {
    const { config, warnings } = loadBrokerConfig({ file: 'a.properties', fileText: 'num.partitions=2\n\nnum.partitions=3\n' });
    expect(config.numPartitions).toBe(3);
    expect(warnings).toEqual(['num.partitions is set twice in a.properties (a.properties line 1 and line 3); the later value is used']);
  });

  it('refuses an override that is not key=value, and keeps everything after the first =', () => {
    expect(fails('num.partitions').message).toBe("--override 'num.partitions' is not key=value");
    expect(fails('=3').message).toBe("--override '=3' is not key=value");
    expect(cfg('strata.cluster.id=a=b').strataClusterId).toBe('a=b');
  });

  it('retention: ms beats minutes beats hours', () => {
    expect(cfg('log.retention.hours=2').logRetentionMs).toBe(7_200_000);
    expect(cfg('log.retention.hours=2', 'log.retention.minutes=3').logRetentionMs).toBe(180_000);
    expect(cfg('log.retention.hours=2', 'log.retention.minutes=3', 'log.retention.ms=4').logRetentionMs).toBe(4);
  });

  it('retention: any negative value means no limit; 0 is refused, naming the key that set it', () => {
    expect(cfg('log.retention.ms=-5').logRetentionMs).toBe(-1);
    expect(cfg('log.retention.minutes=-1').logRetentionMs).toBe(-1);
    expect(cfg('log.retention.hours=-1').logRetentionMs).toBe(-1);
    for (const k of ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']) {
      const err = fails(`${k}=0`);
      expect(err.key).toBe(k);
      expect(err.message).toBe(
        `invalid value '0' for ${k} (--override): 0 would delete every segment as soon as it closes (allowed: a negative value (no time limit) or at least 1)`,
      );
    }
  });

  it('roll and jitter: ms beats hours', () => {
    expect(cfg('log.roll.hours=1').logRollMs).toBe(3_600_000);
    expect(cfg('log.roll.hours=1', 'log.roll.ms=5000').logRollMs).toBe(5000);
    expect(cfg('log.roll.jitter.hours=1').logRollJitterMs).toBe(3_600_000);
    expect(cfg('log.roll.jitter.hours=1', 'log.roll.jitter.ms=7').logRollJitterMs).toBe(7);
    expect(fails('log.roll.ms=0').key).toBe('log.roll.ms');
  });

  it('flush: the interval falls back to the scheduler interval', () => {
    expect(cfg('log.flush.scheduler.interval.ms=2000').logFlushIntervalMs).toBe(2000);
    expect(cfg('log.flush.scheduler.interval.ms=2000', 'log.flush.interval.ms=500').logFlushIntervalMs).toBe(500);
  });

  it('log.dirs beats log.dir, with a warning when both are set', () => {
    expect(cfg('log.dir=/one').logDirs).toEqual(['/one']);
    expect(cfg('log.dir=/one,/two').logDirs).toEqual(['/one', '/two']);
    const { config, warnings } = load(['log.dir=/one', 'log.dirs=/a,/b']);
    expect(config.logDirs).toEqual(['/a', '/b']);
    expect(warnings).toEqual(['log.dir (--override) is ignored because log.dirs is set']);
  });

  it('broker.id stands in for node.id, and must agree with it when both are set', () => {
    expect(cfg('broker.id=7').nodeId).toBe(7);
    expect(cfg('broker.id=7').brokerId).toBe(7);
    expect(cfg('node.id=7', 'broker.id=7').nodeId).toBe(7);
    const err = fails('node.id=7', 'broker.id=8');
    expect(err.key).toBe('broker.id');
    expect(err.message).toMatch(/node\.id \(7, --override\) and broker\.id \(8, --override\) .* must agree/);
    expect(fails('node.id=-1').message).toMatch(/must be at least 0/);
  });
});

describe('unknown keys', () => {
  it('name the key and where it was set, and suggest the closest keys', () => {
    const err = failure({ file: 'server.properties', fileText: 'num.partitions=1\nlog.segment.byte=1\n' });
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.key).toBe('log.segment.byte');
    expect(err.line).toBe(2);
    expect(err.message).toBe("unknown config key 'log.segment.byte' (server.properties line 2); did you mean log.segment.bytes?");
  });

  it('suggest nothing when no key is close', () => {
    expect(fails('zookeeper.connect=localhost:2181').message).toBe("unknown config key 'zookeeper.connect' (--override)");
  });

  it('point a topic-level key at its broker-wide default', () => {
    expect(fails('retention.ms=1000').message).toBe(
      "unknown config key 'retention.ms' (--override); retention.ms is a topic-level key: set it per topic, or set its broker-wide default log.retention.ms",
    );
    expect(fails('remote.storage.enable=true').message).toMatch(/topic-level key with no broker-wide default/);
  });
});

describe('invalid values', () => {
  // One per type: the message names the key, the bad value, where it came from, and what is allowed.
  const cases: [string, string][] = [
    ['log.segment.bytes=1000', "invalid value '1000' for log.segment.bytes (--override): must be at least 1048576"],
    ['num.partitions=many', "invalid value 'many' for num.partitions (--override): expected an int (a whole number from -2147483648 to 2147483647), at least 1"],
    ['log.retention.bytes=1.5', "invalid value '1.5' for log.retention.bytes (--override): expected a long (a whole number; 9223372036854775807 means never)"],
    ['log.cleaner.min.cleanable.ratio=2', "invalid value '2' for log.cleaner.min.cleanable.ratio (--override): must be from 0 to 1"],
    ['delete.topic.enable=yes', "invalid value 'yes' for delete.topic.enable (--override): expected true or false"],
    ['compression.type=brotli', "invalid value 'brotli' for compression.type (--override): must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"],
    ['log.cleanup.policy=delete,archive', "invalid value 'delete,archive' for log.cleanup.policy (--override): 'archive' is not allowed; entries must be among: compact, delete"],
    ['strata.log.format=xml', "invalid value 'xml' for strata.log.format (--override): must be one of: json, text"],
  ];
  for (const [override, message] of cases) {
    it(override, () => {
      const err = fails(override);
      expect(err.key).toBe(override.slice(0, override.indexOf('=')));
      expect(err.message).toBe(message);
    });
  }

  it('name the file line', () => {
    const err = failure({ file: 's.properties', fileText: '\n\nnum.io.threads=0\n' });
    expect(err.line).toBe(3);
    expect(err.message).toBe("invalid value '0' for num.io.threads (s.properties line 3): must be at least 1");
  });
});

describe('listeners', () => {
  it('parse names case-insensitively, empty hosts and IPv6 literals', () => {
    const c = cfg('listeners=plaintext://:9092,INTERNAL://[::1]:9093', 'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT', 'advertised.listeners=PLAINTEXT://kafka.example:9092');
    expect(c.listeners).toEqual([
      { name: 'PLAINTEXT', host: '', port: 9092, securityProtocol: 'PLAINTEXT' },
      { name: 'INTERNAL', host: '::1', port: 9093, securityProtocol: 'PLAINTEXT' },
    ]);
    expect(c.advertisedListeners).toEqual([{ name: 'PLAINTEXT', host: 'kafka.example', port: 9092, securityProtocol: 'PLAINTEXT' }]);
    expect(c.listenerSecurityProtocolMap.get('INTERNAL')).toBe('PLAINTEXT');
  });

  it('refuse any security protocol but PLAINTEXT, naming the key and what is allowed', () => {
    const err = fails('listeners=SSL://:9093');
    expect(err.key).toBe('listeners');
    expect(err.message).toBe('listeners: listener SSL maps to SSL in listener.security.protocol.map; Strata serves only PLAINTEXT listeners today');
    expect(fails('listeners=CLIENT://:9093', 'listener.security.protocol.map=CLIENT:SASL_SSL').message).toMatch(/maps to SASL_SSL/);
  });

  it('refuse a listener name the protocol map does not know', () => {
    expect(fails('listeners=CLIENT://:9093').message).toBe('listeners: listener CLIENT has no security protocol; add CLIENT:PLAINTEXT to listener.security.protocol.map');
  });

  it('refuse repeated names and shared ports, except across IPv4 and IPv6', () => {
    expect(fails('listeners=PLAINTEXT://:9092,PLAINTEXT://:9093').message).toMatch(/names PLAINTEXT twice/);
    const map = 'listener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT';
    expect(fails('listeners=A://:9092,B://h:9092', map).message).toBe('listeners A and B both use port 9092');
    expect(cfg('listeners=A://127.0.0.1:9092,B://[::1]:9092', map).listeners).toHaveLength(2);
    expect(cfg('listeners=A://:0,B://:0', map).listeners).toHaveLength(2);
  });

  it('refuse to advertise a wildcard address or a listener that does not exist', () => {
    expect(fails('listeners=PLAINTEXT://0.0.0.0:9092')).toMatchObject({ key: 'listeners', message: expect.stringMatching(/set advertised.listeners to a routable address/) });
    expect(cfg('listeners=PLAINTEXT://0.0.0.0:9092', 'advertised.listeners=PLAINTEXT://10.1.2.3:9092').advertisedListeners[0]!.host).toBe('10.1.2.3');
    expect(fails('advertised.listeners=PLAINTEXT://[::]:9092')).toMatchObject({ key: 'advertised.listeners' });
    expect(fails('advertised.listeners=OTHER://h:9092').message).toBe('advertised.listeners names OTHER, which is not among listeners (PLAINTEXT)');
    expect(fails('advertised.listeners=PLAINTEXT://h:0').message).toMatch(/advertises port 0/);
  });

  it('keep the HTTP endpoint off the Kafka ports', () => {
    expect(fails('strata.http.listener=127.0.0.1:9092')).toMatchObject({ key: 'strata.http.listener', message: expect.stringMatching(/uses the port of listener PLAINTEXT/) });
    expect(cfg('strata.http.listener=[::1]:8080').strataHttpListener).toEqual({ host: '::1', port: 8080 });
  });
});

describe('relations between keys', () => {
  it('a request of the largest size must fit the request memory bound', () => {
    expect(fails('socket.request.max.bytes=300000000')).toMatchObject({ key: 'socket.request.max.bytes' });
    expect(cfg('socket.request.max.bytes=300000000', 'strata.request.memory.max.bytes=400000000').requestMemoryMaxBytes).toBe(400000000);
    expect(fails('strata.request.memory.max.bytes=1000')).toMatchObject({ key: 'strata.request.memory.max.bytes' });
  });

  it("queued.max.request.bytes replaces Strata's bound when positive, and must fit a request as in Kafka", () => {
    expect(cfg('queued.max.request.bytes=209715200').requestMemoryMaxBytes).toBe(209715200);
    expect(cfg('queued.max.request.bytes=0').requestMemoryMaxBytes).toBe(256 * 1024 * 1024);
    expect(fails('queued.max.request.bytes=100')).toMatchObject({ key: 'queued.max.request.bytes', message: expect.stringMatching(/at least socket\.request\.max\.bytes/) });
  });

  it('session timeout bounds and compaction lags must not be reversed', () => {
    expect(fails('group.min.session.timeout.ms=2000000')).toMatchObject({ key: 'group.min.session.timeout.ms' });
    expect(fails('log.cleaner.min.compaction.lag.ms=10', 'log.cleaner.max.compaction.lag.ms=5')).toMatchObject({ key: 'log.cleaner.min.compaction.lag.ms' });
  });

  it('consumer-protocol group timeouts keep min <= value <= max and the heartbeat below the session timeout', () => {
    expect(fails('group.consumer.session.timeout.ms=10000')).toMatchObject({ key: 'group.consumer.session.timeout.ms', message: expect.stringMatching(/min\.session\.timeout\.ms \(45000\) must not exceed/) });
    expect(fails('group.consumer.max.heartbeat.interval.ms=4000')).toMatchObject({ key: 'group.consumer.max.heartbeat.interval.ms' });
    expect(fails('group.consumer.heartbeat.interval.ms=45000', 'group.consumer.max.heartbeat.interval.ms=50000')).toMatchObject({
      key: 'group.consumer.heartbeat.interval.ms',
      message: expect.stringMatching(/must be below group\.consumer\.session\.timeout\.ms/),
    });
    expect(fails('group.coordinator.rebalance.protocols=consumer')).toMatchObject({ key: 'group.coordinator.rebalance.protocols' });
    expect(fails('group.consumer.assignors=sticky')).toMatchObject({ key: 'group.consumer.assignors', message: expect.stringMatching(/uniform/) });
    expect(cfg('group.consumer.assignors=range,uniform').groupConsumerAssignors).toEqual(['range', 'uniform']);
  });
});

describe('passwords', () => {
  it('keep the secret in the typed field only', () => {
    const { config } = load(['ssl.keystore.password=s3cret']);
    expect(config.sslKeystorePassword?.reveal()).toBe('s3cret');
    expect(config.raw.get('ssl.keystore.password')).toBe('[hidden]');
    expect(JSON.stringify(config)).not.toContain('s3cret');
  });
});

describe('describeBrokerConfigs', () => {
  it('lists every key with its source, read-only, passwords sensitive and blank', () => {
    const entries = describeBrokerConfigs(cfg('log.retention.hours=24', 'ssl.keystore.password=s3cret'));
    expect(entries.map((e) => e.name)).toEqual(BROKER_KEYS.map((k) => k.name));
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get('log.retention.hours')).toMatchObject({ value: '24', source: ConfigSource.STATIC_BROKER_CONFIG, isDefault: false, readOnly: true, sensitive: false, configType: 3 });
    expect(byName.get('num.partitions')).toMatchObject({ value: '1', source: ConfigSource.DEFAULT_CONFIG, isDefault: true });
    expect(byName.get('log.flush.interval.messages')!.value).toBe('9223372036854775807');
    expect(byName.get('ssl.keystore.password')).toMatchObject({ value: null, sensitive: true, source: ConfigSource.STATIC_BROKER_CONFIG, configType: 9 });
    expect(JSON.stringify(entries)).not.toContain('s3cret');
  });

  it('gives the synonyms of a derived key in precedence order', () => {
    const entry = describeBrokerConfigs(cfg('log.retention.hours=24')).find((e) => e.name === 'log.retention.ms')!;
    expect(entry.value).toBeNull();
    expect(entry.synonyms).toEqual([
      { name: 'log.retention.hours', value: '24', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
    ]);
  });
});

describe('file size', () => {
  it('refuses a file too large to be a config file before reading it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-config-'));
    const p = path.join(dir, 'huge.properties');
    writeFileSync(p, Buffer.alloc(4 * 1024 * 1024 + 1, 0x23));
    expect(failure({ file: p }).message).toMatch(/has 4194305 bytes, more than the 4194304 a config file may have/);
  });
});

describe('tiered storage keys', () => {
  it('are acted on, with their defaults, and an S3 store needs a bucket', () => {
    const c = cfg('remote.log.storage.system.enable=true');
    expect([c.remoteLogStorageSystemEnable, c.strataTieredStore, c.strataTieredS3Bucket, c.remoteFetchMaxWaitMs]).toEqual([true, 'local', null, 500]);
    const e = fails('remote.log.storage.system.enable=true', 'strata.tiered.store=s3');
    expect(e.key).toBe('strata.tiered.s3.bucket');
    expect(cfg('remote.log.storage.system.enable=true', 'strata.tiered.store=s3', 'strata.tiered.s3.bucket=strata-a').strataTieredS3Bucket).toBe('strata-a');
    expect(fails('strata.tiered.s3.bucket=Not_A_Bucket').key).toBe('strata.tiered.s3.bucket');
    expect(fails('strata.tiered.upload.part.bytes=1024').key).toBe('strata.tiered.upload.part.bytes');
    expect(fails('remote.log.manager.task.retry.backoff.ms=60000').key).toBe('remote.log.manager.task.retry.backoff.ms');
  });

  it('bound the read cache on disk, in a directory of its own', () => {
    const c = cfg('remote.log.storage.system.enable=true');
    expect([c.strataTieredCacheDiskBytes, c.strataTieredCacheDir, c.strataTieredCacheReadAheadChunks]).toEqual([1024 * 1024 * 1024, null, 2]);
    expect(cfg('strata.tiered.cache.disk.bytes=0').strataTieredCacheDiskBytes).toBe(0);
    expect(fails('strata.tiered.cache.disk.bytes=-1').key).toBe('strata.tiered.cache.disk.bytes');
    expect(fails('strata.tiered.cache.read.ahead.chunks=65').key).toBe('strata.tiered.cache.read.ahead.chunks');
    expect(fails('strata.tiered.cache.dir= ').key).toBe('strata.tiered.cache.dir');
    const e = fails('log.dirs=/var/strata/a,/var/strata/b', 'strata.tiered.cache.dir=/var/strata/b/');
    expect([e.key, e.message]).toEqual(['strata.tiered.cache.dir', expect.stringMatching(/must be a directory of its own/)]);
    expect(fails('strata.tiered.local.dir=/var/t', 'strata.tiered.cache.dir=/var/t').key).toBe('strata.tiered.cache.dir');
    expect(cfg('log.dirs=/var/strata/a', 'strata.tiered.cache.dir=/var/strata/a-cache').strataTieredCacheDir).toBe('/var/strata/a-cache');
  });
});
