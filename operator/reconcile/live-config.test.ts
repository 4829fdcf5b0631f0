import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseProperties } from '../../broker/config/index.js';
import { renderBrokerConfig } from './broker-config.js';
import { desiredClusterObjects } from './cluster.js';
import { describeLivePlan, isLiveKey, planLiveConfig, splitBrokerConfig } from './live-config.js';
import { ANNOTATION_CONFIG_HASH } from './names.js';
import { SETTINGS, storedCluster } from './test-fixtures.js';

const CAPS = { serviceMonitor: false, prometheusRule: false };
const fileOf = (config: Record<string, string>) => Object.fromEntries(parseProperties(renderBrokerConfig(storedCluster({ replicas: 3, config })).properties).map((e) => [e.key, e.value]));
const hashOf = (config: Record<string, string>) => renderBrokerConfig(storedCluster({ replicas: 3, config })).restartHash;
const templateHash = (config: Record<string, string>, liveConfig = true) => {
  const d = desiredClusterObjects(storedCluster({ replicas: 3, config }), SETTINGS, CAPS, { liveConfig });
  const sts = d.objects.find((o) => o.kind === 'StatefulSet') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
  expect(d.configHash).toBe(sts.spec.template.metadata.annotations[ANNOTATION_CONFIG_HASH]);
  return d.configHash;
};

describe('splitBrokerConfig', () => {
  it('sends the broker keys that are topic defaults live and every other key to a restart', () => {
    const s = splitBrokerConfig([
      ['log.retention.ms', '3600000'],
      ['num.partitions', '3'],
      ['log.segment.bytes', '1048576'],
      ['listeners', 'PLAINTEXT://:9092'],
      ['message.max.bytes', '2000000'],
      ['auto.create.topics.enable', 'false'],
    ]);
    expect(s.live).toEqual({ 'log.retention.ms': '3600000', 'log.segment.bytes': '1048576', 'message.max.bytes': '2000000' });
    expect(s.restart).toEqual([
      ['num.partitions', '3'],
      ['listeners', 'PLAINTEXT://:9092'],
      ['auto.create.topics.enable', 'false'],
    ]);
    expect(isLiveKey('log.cleanup.policy')).toBe(true);
    expect(isLiveKey('default.replication.factor')).toBe(false);
  });

  it('keeps the config hash, and so the pod template, when only live keys change, while the file carries the new value', () => {
    const before = { 'num.partitions': '3', 'log.retention.ms': '3600000' };
    const after = { 'num.partitions': '3', 'log.retention.ms': '7200000', 'log.segment.bytes': '1048576' };
    expect(hashOf(after)).toBe(hashOf(before));
    expect(templateHash(after)).toBe(templateHash(before));
    expect(fileOf(after)).toMatchObject({ 'log.retention.ms': '7200000', 'log.segment.bytes': '1048576' });
    expect(renderBrokerConfig(storedCluster({ replicas: 3, config: after })).live).toEqual({ 'log.retention.ms': '7200000', 'log.segment.bytes': '1048576' });
  });

  it('keeps every change in the hash when the controller does not apply live keys, so nothing waits for a restart', () => {
    const before = { 'log.retention.ms': '3600000' };
    const after = { 'log.retention.ms': '7200000' };
    expect(templateHash(after, false)).not.toBe(templateHash(before, false));
    expect(templateHash(after, false)).toBe(renderBrokerConfig(storedCluster({ replicas: 3, config: after })).hash);
  });

  it('changes the hash when a key that needs a restart changes, also alongside live keys', () => {
    expect(hashOf({ 'num.partitions': '4', 'log.retention.ms': '3600000' })).not.toBe(hashOf({ 'num.partitions': '3', 'log.retention.ms': '3600000' }));
    expect(hashOf({ 'num.partitions': '4', 'log.retention.ms': '1' })).not.toBe(hashOf({ 'num.partitions': '3', 'log.retention.ms': '3600000' }));
  });

  it('hashes a file without live keys as the whole file, so clusters without them do not roll', () => {
    const r = renderBrokerConfig(storedCluster({ replicas: 3, config: { 'num.partitions': '3' } }));
    expect(r.restartHash).toBe(createHash('sha256').update(r.properties).digest('hex').slice(0, 16));
    expect(r.restartHash).toBe(r.hash);
    expect(r.live).toEqual({});
  });
});

describe('planLiveConfig', () => {
  const entry = (name: string, value: string | null, source: number) => ({ name, value, source });
  const DYNAMIC = 2;
  const STATIC = 4;
  const DEFAULT = 5;

  it('sets a spec key whose value differs and leaves one that matches, comparing as the broker prints', () => {
    const p = planLiveConfig({ 'log.retention.ms': '7200000', 'log.segment.bytes': ' 1048576' }, [
      entry('log.retention.ms', '3600000', STATIC),
      entry('log.segment.bytes', '1048576', DYNAMIC),
      entry('num.partitions', '1', DEFAULT),
    ]);
    expect(p).toEqual({ set: { 'log.retention.ms': '7200000' }, delete: [] });
  });

  it('resets a key that left the spec: DELETE from the dynamic layer, or SET to the default over a stale file value', () => {
    const p = planLiveConfig({}, [
      entry('log.segment.bytes', '1048576', DYNAMIC),
      entry('message.max.bytes', '2000000', STATIC),
      entry('log.cleanup.policy', 'delete', DEFAULT),
    ]);
    expect(p.delete).toEqual(['log.segment.bytes']);
    expect(Object.keys(p.set)).toEqual(['message.max.bytes']);
    expect(p.set['message.max.bytes']).toMatch(/^\d+$/);
    expect(p.set['message.max.bytes']).not.toBe('2000000');
    expect(describeLivePlan(p)).toBe(`message.max.bytes=${p.set['message.max.bytes']}, log.segment.bytes reset`);
  });

  it('converges: a dynamic layer holding the default, and a removed key without a default, ask for nothing', () => {
    const dflt = planLiveConfig({}, [entry('message.max.bytes', '2000000', STATIC)]).set['message.max.bytes']!;
    expect(planLiveConfig({}, [entry('message.max.bytes', dflt, DYNAMIC), entry('log.retention.ms', null, DEFAULT)])).toEqual({ set: {}, delete: [] });
  });

  it('ignores keys that cannot change live and sends spec keys the broker did not describe', () => {
    expect(planLiveConfig({ 'log.retention.ms': '5' }, [entry('num.partitions', '9', STATIC)])).toEqual({ set: { 'log.retention.ms': '5' }, delete: [] });
  });
});
