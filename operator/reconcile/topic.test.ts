import { describe, expect, it } from 'vitest';
import type { StrataTopic, StrataTopicSpec } from '../api/v1alpha1.js';
import { planTopic, topicNameOf, topicStatus, type ObservedTopic } from './topic.js';

const T0 = '2026-01-01T00:00:00Z';
const topic = (spec: Partial<StrataTopicSpec>, name = 'orders'): StrataTopic => ({
  apiVersion: 'strata.dev/v1alpha1',
  kind: 'StrataTopic',
  metadata: { name, namespace: 'streaming', generation: 2 },
  spec: { clusterRef: { name: 'events' }, partitions: 3, ...spec },
});
const observed = (over: Partial<ObservedTopic> = {}): ObservedTopic => ({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: 3, replicationFactor: 1, configs: {}, ...over });

describe('planTopic', () => {
  it('creates a missing topic with its partitions, configs and the broker default replication unless given', () => {
    expect(planTopic(topic({ config: { 'retention.ms': '86400000' } }), null)).toEqual({ action: 'create', name: 'orders', partitions: 3, replicationFactor: -1, configs: { 'retention.ms': '86400000' } });
    expect(planTopic(topic({ replicationFactor: 1, topicName: 'Orders_v1' }), null)).toMatchObject({ action: 'create', name: 'Orders_v1', replicationFactor: 1 });
  });

  it('does nothing when the topic matches', () => {
    expect(planTopic(topic({ config: { 'retention.ms': '1000' } }), observed({ configs: { 'retention.ms': '1000' } }))).toEqual({ action: 'none', name: 'orders' });
  });

  it('alters changed configs, resets removed ones and adds partitions', () => {
    const plan = planTopic(topic({ partitions: 6, config: { 'retention.ms': '2000', 'cleanup.policy': 'compact' } }), observed({ configs: { 'retention.ms': '1000', 'segment.bytes': '1048576' } }));
    expect(plan).toEqual({ action: 'update', name: 'orders', set: { 'cleanup.policy': 'compact', 'retention.ms': '2000' }, delete: ['segment.bytes'], totalPartitions: 6 });
  });

  it('refuses fewer partitions, naming the field and the current count', () => {
    expect(() => planTopic(topic({ partitions: 2 }), observed({ partitions: 3 }))).toThrow(/^spec\.partitions: topic orders has 3 partitions and Kafka cannot remove partitions/);
  });

  it('refuses another replication factor', () => {
    expect(() => planTopic(topic({ replicationFactor: 3 }), observed({ replicationFactor: 1 }))).toThrow(/^spec\.replicationFactor: /);
    expect(planTopic(topic({}), observed({ replicationFactor: 1 })).action).toBe('none');
  });

  it('refuses a config the broker would refuse, naming the key', () => {
    expect(() => planTopic(topic({ config: { 'retention.ms': 'soon' } }), null)).toThrow(/^spec\.config: invalid value 'soon' for retention\.ms/);
    expect(() => planTopic(topic({ config: { 'no.such.config': '1' } }), null)).toThrow(/^spec\.config: .*no\.such\.config/);
  });

  it('names the topic after metadata.name unless topicName is set', () => {
    expect(topicNameOf(topic({}))).toBe('orders');
    expect(topicNameOf(topic({ topicName: 'Orders_v1' }))).toBe('Orders_v1');
  });
});

describe('topicStatus', () => {
  const conds = (s: ReturnType<typeof topicStatus>) => Object.fromEntries(s.conditions!.map((c) => [c.type, [c.status, c.reason]]));

  it('reports a synced topic as Ready with its id and partitions', () => {
    const s = topicStatus(topic({}), { kind: 'synced', observed: observed({ partitions: 6 }) }, T0);
    expect(s).toMatchObject({ observedGeneration: 2, topicName: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: 6 });
    expect(conds(s)).toEqual({ Ready: ['True', 'TopicReady'], Reconciling: ['False', 'UpToDate'], Stalled: ['False', 'Progressing'] });
  });

  it('reports a refused change as Stalled and keeps what it knew of the topic', () => {
    const t: StrataTopic = { ...topic({ partitions: 2 }), status: { topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: 3 } };
    const s = topicStatus(t, { kind: 'invalid', field: 'spec.partitions', message: 'Kafka cannot remove partitions' }, T0);
    expect(conds(s)).toEqual({ Ready: ['False', 'InvalidSpec'], Reconciling: ['False', 'InvalidSpec'], Stalled: ['True', 'InvalidSpec'] });
    expect(s).toMatchObject({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: 3 });
    expect(s.conditions!.find((c) => c.type === 'Stalled')!.message).toBe('spec.partitions: Kafka cannot remove partitions');
  });

  it('reports a missing cluster as Reconciling', () => {
    expect(conds(topicStatus(topic({}), { kind: 'waiting', message: 'StrataCluster events does not exist' }, T0))).toMatchObject({ Ready: ['False', 'WaitingForCluster'], Reconciling: ['True', 'WaitingForCluster'] });
  });
});
