// The rendered objects on a real control plane with controllers and kwok nodes: applied through the
// operator's apply step, the StatefulSet's pods are created by the real StatefulSet controller,
// bound to claims, scheduled and Running on fake nodes, each carrying the ordinal label node.id is
// read from; deleting the StrataCluster garbage-collects every object it owns and keeps the claims.
// (The controller loop does not exist yet; this checks what it will apply.)
import * as k8s from '@kubernetes/client-node';
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StrataCluster } from '../../operator/api/v1alpha1.js';
import { applyObjects } from '../../operator/kube/apply.js';
import { desiredClusterObjects, type KubeObject } from '../../operator/reconcile/cluster.js';
import { SETTINGS } from '../../operator/reconcile/test-fixtures.js';
import { fakeNode, installCrds, startControlPlane, type ControlPlane } from './control-plane.js';
import { nodesProblem } from './peers.js';

const NS = 'streaming';
const STORAGE_CLASS = 'kwok-static';
const WAIT_MS = 120_000;
let cp: ControlPlane;
let api: k8s.KubernetesObjectApi;
let core: k8s.CoreV1Api;
let owned: KubeObject[];

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${WAIT_MS} ms\n${cp.logs().slice(-6000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function exists(o: KubeObject): Promise<boolean> {
  try {
    await api.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace ?? NS } });
    return true;
  } catch (e) {
    if (e instanceof k8s.ApiException && e.code === 404) return false;
    throw e;
  }
}

beforeAll(async () => {
  const problem = nodesProblem();
  if (problem !== null) throw new Error(problem);
  cp = await startControlPlane({ nodes: true });
  api = k8s.KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  core = cp.kubeConfig.makeApiClient(k8s.CoreV1Api);
  await installCrds(cp);
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  for (let i = 0; i < 3; i++) {
    await api.create(fakeNode(`kwok-node-${i}`) as k8s.KubernetesObject);
    // No provisioner runs here: static volumes of the claims' class stand in for one.
    await api.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pv-${i}` },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/tmp/strata-kwok-pv-${i}` } },
    } as k8s.KubernetesObject);
  }
});

afterAll(async () => {
  await cp?.stop();
});

describe('a StrataCluster\'s objects on kwok nodes', () => {
  it('gives three pods, Running and Ready on fake nodes, each with its ordinal label and a bound claim', async () => {
    await api.create({ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name: 'events', namespace: NS }, spec: { replicas: 3, storage: { size: '1Gi', storageClassName: STORAGE_CLASS } } } as k8s.KubernetesObject);
    const stored = (await api.read({ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name: 'events', namespace: NS } })) as unknown as StrataCluster;
    owned = desiredClusterObjects(stored, SETTINGS, { serviceMonitor: false, prometheusRule: false }).objects;
    await applyObjects(api, owned);

    const pods = await until('three Running, Ready broker pods', async () => {
      const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'strata.dev/cluster=events,app.kubernetes.io/component=broker' });
      const ready = list.items.filter((p: V1Pod) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === 3 ? ready : undefined;
    });
    const byName = new Map(pods.map((p) => [p.metadata!.name!, p]));
    for (let ordinal = 0; ordinal < 3; ordinal++) {
      const pod = byName.get(`events-broker-${ordinal}`);
      expect(pod, `events-broker-${ordinal}`).toBeDefined();
      // STRATA_CONFIG_NODE_ID is read from this label through the downward API.
      expect(pod!.metadata!.labels!['apps.kubernetes.io/pod-index']).toBe(String(ordinal));
      expect(pod!.spec!.nodeName).toMatch(/^kwok-node-\d$/);
      expect(pod!.spec!.hostname).toBe(`events-broker-${ordinal}`);
      expect(pod!.spec!.subdomain).toBe('events-brokers');
      const claim = pod!.spec!.volumes!.find((v) => v.name === 'data')!.persistentVolumeClaim!.claimName;
      expect(claim).toBe(`data-events-broker-${ordinal}`);
      const pvc: V1PersistentVolumeClaim = await core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: NS });
      expect(pvc.status?.phase).toBe('Bound');
    }
  });

  it('garbage-collects every owned object when the cluster is deleted, and keeps the claims', async () => {
    await api.delete({ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name: 'events', namespace: NS } }, undefined, undefined, undefined, undefined, 'Background');
    for (const o of owned) {
      await until(`${o.kind} ${o.metadata.name} gone`, async () => ((await exists(o)) ? undefined : true));
    }
    await until('the broker pods gone', async () => {
      const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'strata.dev/cluster=events' });
      return list.items.length === 0 ? true : undefined;
    });
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: NS });
    expect(claims.items.map((c) => c.metadata!.name).sort()).toEqual(['data-events-broker-0', 'data-events-broker-1', 'data-events-broker-2']);
  });
});
