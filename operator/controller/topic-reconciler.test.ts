import { describe, expect, it } from 'vitest';
import { SETTINGS, storedCluster } from '../reconcile/test-fixtures.js';
import { brokerZeroBootstrap } from './topic-reconciler.js';

describe('the brokers a StrataTopic is reconciled against', () => {
  it('is broker 0 at its stable name on the first listener, never the load-balanced client Service', () => {
    const of = brokerZeroBootstrap(SETTINGS);
    expect(of(storedCluster({ replicas: 3 }))).toEqual(['events-broker-0.events-brokers.streaming.svc.cluster.local:9092']);
    expect(of(storedCluster({ replicas: 1, listeners: [{ name: 'INTERNAL', port: 9093 }, { name: 'PLAINTEXT', port: 9092 }] } as never))).toEqual([
      'events-broker-0.events-brokers.streaming.svc.cluster.local:9093',
    ]);
  });
});
