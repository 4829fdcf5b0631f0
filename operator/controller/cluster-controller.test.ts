import { describe, expect, it } from 'vitest';
import { desiredClusterObjects } from '../reconcile/cluster.js';
import { SETTINGS, storedCluster } from '../reconcile/test-fixtures.js';
import { clusterKeyOf, clusterWatches, ownKey } from './cluster-controller.js';

describe('clusterKeyOf', () => {
  it('maps every object the cluster renders to the cluster\'s key', () => {
    const { objects } = desiredClusterObjects(storedCluster({ replicas: 3 }), SETTINGS, { serviceMonitor: true, prometheusRule: true });
    for (const o of objects) expect(clusterKeyOf(o), `${o.kind} ${o.metadata.name}`).toEqual(['streaming/events']);
  });

  it('maps a pod, owned by the StatefulSet, by the cluster label', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'events-broker-0',
        namespace: 'streaming',
        labels: { 'strata.dev/cluster': 'events' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'events-broker', uid: 'u', controller: true }],
      },
    };
    expect(clusterKeyOf(pod)).toEqual(['streaming/events']);
  });

  it('prefers the owner reference to the label, and ignores owners that are not the controller or not Strata\'s', () => {
    const base = { apiVersion: 'v1', kind: 'ConfigMap' };
    expect(clusterKeyOf({ ...base, metadata: { name: 'x', namespace: 'ns', labels: { 'strata.dev/cluster': 'other' }, ownerReferences: [{ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', name: 'main', uid: 'u', controller: true }] } })).toEqual(['ns/main']);
    expect(clusterKeyOf({ ...base, metadata: { name: 'x', namespace: 'ns', ownerReferences: [{ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', name: 'main', uid: 'u' }] } })).toEqual([]);
    expect(clusterKeyOf({ ...base, metadata: { name: 'x', namespace: 'ns', ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'StrataCluster', name: 'main', uid: 'u', controller: true }] } })).toEqual([]);
  });

  it('maps nothing for objects without a namespace, owner or label', () => {
    expect(clusterKeyOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default' } })).toEqual([]);
    expect(clusterKeyOf({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', labels: { 'strata.dev/cluster': 'events' } } })).toEqual([]);
    expect(clusterKeyOf({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', labels: { 'strata.dev/cluster': '' } } })).toEqual([]);
  });
});

describe('clusterWatches', () => {
  it('watches the clusters by their own key and the owned kinds through the cluster label', () => {
    const w = clusterWatches();
    expect(w.map((x) => `${x.source.apiVersion}/${x.source.plural}`)).toEqual(['strata.dev/v1alpha1/strataclusters', 'apps/v1/statefulsets', 'v1/pods', 'v1/configmaps', 'v1/services']);
    expect(w[0]!.keys).toBe(ownKey);
    expect(ownKey(storedCluster({ replicas: 1 }, 'a', 'b'))).toEqual(['b/a']);
    for (const x of w.slice(1)) expect(x.source.labelSelector).toBe('strata.dev/cluster');
  });
});
