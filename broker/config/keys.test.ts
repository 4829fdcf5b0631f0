import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BROKER_KEYS, brokerKey } from './keys.js';
import {
  camelCase,
  checkValue,
  closestNames,
  formatValue,
  KAFKA_LONG_MAX,
  LONG_NEVER,
  parseValue,
  Password,
  type AnyKeyDef,
} from './value-types.js';

const key = (name: string): AnyKeyDef => {
  const def = brokerKey(name);
  if (def === undefined) throw new Error(`no key ${name}`);
  return def;
};
const parse = (name: string, text: string) => parseValue(key(name), text);
const value = (name: string, text: string) => {
  const r = parse(name, text);
  if (!r.ok) throw new Error(r.problem);
  return r.value;
};

describe('declarations', () => {
  it('every default passes its own validator, and every key is documented in a sentence or two', () => {
    for (const def of BROKER_KEYS as readonly AnyKeyDef[]) {
      expect(checkValue(def, def.default), def.name).toBeNull();
      expect(def.doc, def.name).toMatch(/^[A-Z`a-z_].*\.$/s);
      expect(def.doc.length, def.name).toBeLessThan(400);
      if (def.inert) expect(def.inertReason, def.name).toMatch(/\.$/);
    }
  });

  it('carries Kafka 4.1\'s defaults for the keys Strata shares with it, and Strata\'s own where they differ', () => {
    const expected: Record<string, unknown> = {
      listeners: ['PLAINTEXT://127.0.0.1:9092'],
      'advertised.listeners': null,
      'node.id': 1,
      'log.dir': ['./data'],
      'log.dirs': null,
      'num.partitions': 1,
      'default.replication.factor': 1,
      'auto.create.topics.enable': true,
      'delete.topic.enable': true,
      'offsets.topic.num.partitions': 50,
      'offsets.topic.replication.factor': 3,
      'offsets.retention.minutes': 10080,
      'transaction.state.log.num.partitions': 50,
      'transaction.state.log.replication.factor': 3,
      'transaction.state.log.min.isr': 2,
      'group.initial.rebalance.delay.ms': 3000,
      'group.min.session.timeout.ms': 6000,
      'group.max.session.timeout.ms': 1800000,
      'log.segment.bytes': 1073741824,
      'log.roll.ms': null,
      'log.roll.hours': 168,
      'log.retention.ms': null,
      'log.retention.minutes': null,
      'log.retention.hours': 168,
      'log.retention.bytes': -1,
      'log.retention.check.interval.ms': 300000,
      'log.index.interval.bytes': 4096,
      'log.index.size.max.bytes': 10485760,
      'log.flush.interval.messages': LONG_NEVER,
      'log.flush.interval.ms': null,
      'log.flush.scheduler.interval.ms': LONG_NEVER,
      'log.flush.offset.checkpoint.interval.ms': 60000,
      'log.message.timestamp.type': 'CreateTime',
      'log.message.timestamp.after.max.ms': 3600000,
      'log.cleanup.policy': ['delete'],
      'log.cleaner.enable': true,
      'compression.type': 'producer',
      'message.max.bytes': 1048588,
      'min.insync.replicas': 1,
      'socket.request.max.bytes': 104857600,
      'socket.send.buffer.bytes': 102400,
      'socket.receive.buffer.bytes': 102400,
      'max.connections': 2147483647,
      'max.connections.per.ip': 2147483647,
      'connections.max.idle.ms': 600000,
      'queued.max.requests': 500,
      'queued.max.request.bytes': -1,
      'strata.request.memory.max.bytes': 256 * 1024 * 1024,
      'strata.http.listener': '127.0.0.1:9644',
      'strata.cluster.id': null,
      'strata.log.level': 'info',
      'strata.log.format': 'json',
    };
    for (const [name, dflt] of Object.entries(expected)) expect(key(name).default, name).toEqual(dflt);
  });

  it('marks the keys Strata accepts without acting on them as inert', () => {
    const inert = (BROKER_KEYS as readonly AnyKeyDef[]).filter((k) => k.inert).map((k) => k.name);
    for (const name of ['process.roles', 'controller.quorum.voters', 'controller.listener.names', 'inter.broker.listener.name', 'num.network.threads', 'num.io.threads']) {
      expect(inert).toContain(name);
    }
    for (const name of ['listeners', 'log.segment.bytes', 'strata.http.listener']) expect(inert).not.toContain(name);
  });

  it('names fields by camel-casing the key', () => {
    expect(camelCase('log.segment.bytes')).toBe('logSegmentBytes');
    expect(camelCase('strata.http.listener')).toBe('strataHttpListener');
    expect(camelCase('compression.lz4.level')).toBe('compressionLz4Level');
    expect(camelCase('listeners')).toBe('listeners');
  });
});

describe('parsing values', () => {
  it('int: whole numbers within int32, blanks around them ignored', () => {
    expect(value('num.partitions', ' 3 ')).toBe(3);
    expect(value('num.partitions', '+3')).toBe(3);
    expect(value('max.connections', '2147483647')).toBe(2147483647);
    for (const bad of ['', '3.0', '0x10', '1e3', '2147483648', 'three']) {
      const r = parse('max.connections', bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.problem).toMatch(/expected an int .*-2147483648 to 2147483647.*at least 0/);
    }
  });

  it('int: the range names its bounds', () => {
    expect(parse('log.segment.bytes', '100')).toEqual({ ok: false, problem: 'must be at least 1048576' });
    expect(parse('log.cleaner.min.cleanable.ratio', '1.5')).toEqual({ ok: false, problem: 'must be from 0 to 1' });
    expect(parse('offsets.topic.replication.factor', '40000')).toEqual({ ok: false, problem: 'must be from 1 to 32767' });
  });

  it('long: safe integers; Long.MAX_VALUE and anything from 2^53-1 up reads as never', () => {
    expect(value('log.retention.bytes', '-7')).toBe(-7);
    expect(value('log.flush.interval.messages', KAFKA_LONG_MAX)).toBe(LONG_NEVER);
    expect(value('log.flush.interval.messages', String(2 ** 60))).toBe(LONG_NEVER);
    expect(value('log.flush.interval.messages', String(Number.MAX_SAFE_INTEGER - 1))).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect(parse('log.flush.interval.messages', '9223372036854775808')).toMatchObject({ ok: false, problem: /expected a long/ });
    expect(parse('log.retention.bytes', '-9007199254740993')).toMatchObject({ ok: false, problem: /no smaller than -9007199254740991/ });
    expect(parse('log.flush.interval.messages', '0')).toEqual({ ok: false, problem: 'must be at least 1' });
  });

  it('double: decimal numbers', () => {
    expect(value('log.cleaner.min.cleanable.ratio', '0.25')).toBe(0.25);
    expect(value('log.cleaner.min.cleanable.ratio', '.5')).toBe(0.5);
    expect(value('log.cleaner.min.cleanable.ratio', '1')).toBe(1);
    expect(value('log.cleaner.min.cleanable.ratio', '5e-1')).toBe(0.5);
    expect(parse('log.cleaner.min.cleanable.ratio', 'half')).toMatchObject({ ok: false, problem: /expected a decimal number, from 0 to 1/ });
    expect(parse('log.cleaner.min.cleanable.ratio', 'NaN').ok).toBe(false);
  });

  it('boolean: true or false in any case, nothing else', () => {
    expect(value('auto.create.topics.enable', 'TRUE')).toBe(true);
    expect(value('auto.create.topics.enable', ' False ')).toBe(false);
    for (const bad of ['yes', '1', '']) expect(parse('auto.create.topics.enable', bad)).toEqual({ ok: false, problem: 'expected true or false' });
  });

  it('string: trimmed; a choice is case-sensitive, as in Kafka, and lists its values', () => {
    expect(value('log.message.timestamp.type', ' LogAppendTime ')).toBe('LogAppendTime');
    expect(parse('log.message.timestamp.type', 'createtime')).toEqual({ ok: false, problem: 'must be one of: CreateTime, LogAppendTime' });
    expect(parse('strata.log.level', 'verbose')).toEqual({ ok: false, problem: 'must be one of: trace, debug, info, warn, error' });
  });

  it('list: comma separated, entries trimmed, empty entries dropped', () => {
    expect(value('log.dirs', ' /a , /b,,/c, ')).toEqual(['/a', '/b', '/c']);
    expect(value('log.cleanup.policy', 'compact, delete')).toEqual(['compact', 'delete']);
    expect(value('log.cleanup.policy', '')).toEqual([]);
    expect(parse('log.cleanup.policy', 'delete,shred')).toEqual({ ok: false, problem: "'shred' is not allowed; entries must be among: compact, delete" });
    expect(parse('log.dirs', ' , ')).toEqual({ ok: false, problem: 'needs at least one path (allowed: one or more paths)' });
  });

  it('custom validators explain the problem and what is allowed', () => {
    expect(parse('socket.send.buffer.bytes', '0')).toEqual({ ok: false, problem: '0 is neither -1 nor positive (allowed: -1 (the OS default) or at least 1)' });
    expect(parse('compression.gzip.level', '0')).toMatchObject({ ok: false, problem: /allowed: -1 \(the codec default\) or 1 to 9/ });
    expect(parse('strata.http.listener', 'localhost')).toMatchObject({ ok: false, problem: /'localhost' is not host:port/ });
    expect(value('strata.http.listener', '[::1]:9644')).toBe('[::1]:9644');
    expect(parse('strata.http.listener', 'h:70000')).toMatchObject({ ok: false, problem: /port 70000, above 65535/ });
    expect(parse('listeners', 'PLAINTEXT:9092')).toMatchObject({ ok: false, problem: /'PLAINTEXT:9092' is not NAME:\/\/host:port/ });
    expect(parse('listeners', '')).toMatchObject({ ok: false, problem: /needs at least one entry/ });
    expect(parse('listener.security.protocol.map', 'PLAINTEXT:BOGUS')).toMatchObject({ ok: false, problem: /security protocol 'BOGUS'/ });
    expect(parse('strata.cluster.id', 'has space')).toMatchObject({ ok: false, problem: /printable ASCII/ });
  });

  it('password: kept out of strings, JSON, inspection and DescribeConfigs values', () => {
    const p = value('ssl.keystore.password', ' s3cret ') as Password;
    expect(p).toBeInstanceOf(Password);
    expect(p.reveal()).toBe('s3cret');
    expect(String(p)).toBe('[hidden]');
    expect(JSON.stringify({ p })).toBe('{"p":"[hidden]"}');
    expect(inspect({ p })).not.toContain('s3cret');
    expect(formatValue(key('ssl.keystore.password'), p)).toBeNull();
  });
});

describe('printing values', () => {
  it('prints as Kafka does: never as Long.MAX_VALUE, lists comma-joined, unset as null', () => {
    expect(formatValue(key('log.flush.interval.messages'), LONG_NEVER)).toBe(KAFKA_LONG_MAX);
    expect(formatValue(key('log.cleanup.policy'), ['compact', 'delete'])).toBe('compact,delete');
    expect(formatValue(key('log.retention.ms'), null)).toBeNull();
    expect(formatValue(key('auto.create.topics.enable'), false)).toBe('false');
    expect(formatValue(key('log.cleaner.min.cleanable.ratio'), 0.5)).toBe('0.5');
  });
});

describe('closestNames', () => {
  const names = (BROKER_KEYS as readonly AnyKeyDef[]).map((k) => k.name);
  it('suggests keys a typo away, nearest first', () => {
    expect(closestNames('log.retention.hour', names)[0]).toBe('log.retention.hours');
    expect(closestNames('num.partition', names)).toEqual(['num.partitions']);
    expect(closestNames('LOG.DIRS', names)[0]).toBe('log.dirs');
    expect(closestNames('listener', names)).toContain('listeners');
  });
  it('suggests nothing for a name unlike any key', () => {
    expect(closestNames('zookeeper.connect', names)).toEqual([]);
  });
});
