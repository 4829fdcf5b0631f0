// The cluster reconciler against a real control plane (kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler) with kwok fake nodes. The test calls reconcile() the way the work queue will
// (again and again until the cluster settles) and checks what the cluster and its Events say:
// the cluster reaches Ready; a config change rolls the pods one at a time in the order the
// operator chose, also when the operator is replaced mid-roll; a bad config and a scale-down of a
// broker that holds partitions are refused with Stalled conditions.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, StrataCluster } from '../../operator/api/v1alpha1.js';
import { ClusterReconciler, type ClusterReconcilerOptions } from '../../operator/controller/cluster-reconciler.js';
import { TerminalError } from '../../operator/controller/worker.js';
import { SETTINGS } from '../../operator/reconcile/test-fixtures.js';
import { fakeNode, installCrds, startControlPlane, type ControlPlane } from './control-plane.js';
import { nodesProblem } from './peers.js';

const NS = 'streaming';
const KEY = `${NS}/events`;
const STORAGE_CLASS = 'kwok-static';
const STEPS_MAX = 240;
const STEP_PAUSE_MS = 500;
let cp: ControlPlane;
let api: k8s.KubernetesObjectApi;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;

const eventErrors: unknown[] = [];
const reconciler = (over: Partial<ClusterReconcilerOptions> = {}) =>
  new ClusterReconciler({
    kubeConfig: cp.kubeConfig,
    settings: SETTINGS,
    capabilities: async () => ({ serviceMonitor: false, prometheusRule: false }),
    onEventError: (e) => eventErrors.push(e),
    ...over,
  });

async function readCluster(): Promise<StrataCluster> {
  return (await custom.getNamespacedCustomObject({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'events' })) as StrataCluster;
}
const cond = (c: StrataCluster, type: string): Condition | undefined => c.status?.conditions?.find((x) => x.type === type);

async function patchSpec(spec: Record<string, unknown>): Promise<void> {
  await custom.patchNamespacedCustomObject(
    { group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'events', body: { spec } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** Reconciles until `done` holds for the cluster, as the work queue would keep requeueing it. */
async function converge(r: ClusterReconciler, done: (c: StrataCluster) => boolean): Promise<StrataCluster> {
  for (let step = 0; step < STEPS_MAX; step++) {
    await r.reconcile(KEY);
    const c = await readCluster();
    if (done(c)) return c;
    await new Promise((res) => setTimeout(res, STEP_PAUSE_MS));
  }
  throw new Error(`the cluster did not settle in ${STEPS_MAX} reconciles: ${JSON.stringify((await readCluster()).status)}`);
}
const isReady = (c: StrataCluster) => cond(c, 'Ready')?.status === 'True' && c.status?.observedGeneration === c.metadata.generation;

async function restartEvents(): Promise<string[]> {
  const list = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=events' });
  return list.items
    .filter((e) => e.reason === 'RestartingBroker')
    .sort((a, b) => new Date(a.eventTime as unknown as string).getTime() - new Date(b.eventTime as unknown as string).getTime())
    .map((e) => e.message!);
}

async function brokerPods(): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector: 'strata.dev/cluster=events,app.kubernetes.io/component=broker' })).items;
}

beforeAll(async () => {
  const problem = nodesProblem();
  if (problem !== null) throw new Error(problem);
  cp = await startControlPlane({ nodes: true });
  api = k8s.KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  core = cp.kubeConfig.makeApiClient(k8s.CoreV1Api);
  custom = cp.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  await installCrds(cp);
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  for (let i = 0; i < 3; i++) {
    await api.create(fakeNode(`kwok-node-${i}`) as k8s.KubernetesObject);
    await api.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pv-${i}` },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/tmp/strata-kwok-pv-${i}` } },
    } as k8s.KubernetesObject);
  }
  await api.create({
    apiVersion: 'strata.dev/v1alpha1',
    kind: 'StrataCluster',
    metadata: { name: 'events', namespace: NS },
    spec: { replicas: 3, storage: { size: '1Gi', storageClassName: STORAGE_CLASS }, config: { 'num.partitions': '1' } },
  } as k8s.KubernetesObject);
});

afterAll(async () => {
  await cp?.stop();
});

describe('the cluster reconciler on kwok nodes', () => {
  it('brings a new cluster to Ready with its brokers and bootstrap address', async () => {
    const c = await converge(reconciler(), isReady);
    expect(c.status).toMatchObject({ observedGeneration: 1, replicas: 3, readyReplicas: 3, bootstrapServers: 'events-bootstrap.streaming.svc.cluster.local:9092' });
    expect(cond(c, 'Reconciling')).toMatchObject({ status: 'False', observedGeneration: 1 });
    expect(cond(c, 'Stalled')).toMatchObject({ status: 'False' });
    expect(await restartEvents()).toEqual([]);
  });

  it('rolls a config change one pod at a time, highest ordinal first, and resumes with a new operator mid-roll', async () => {
    const before = new Map((await brokerPods()).map((p) => [p.metadata!.name!, p.metadata!.uid!]));
    await patchSpec({ config: { 'num.partitions': '2' } });
    // The first operator takes the roll until it has restarted one broker...
    const first = reconciler();
    for (let step = 0; step < STEPS_MAX && (await restartEvents()).length === 0; step++) {
      await first.reconcile(KEY);
      await new Promise((res) => setTimeout(res, STEP_PAUSE_MS));
    }
    expect(await restartEvents()).toHaveLength(1);
    // ...and a fresh one, which knows only what the cluster shows, finishes it.
    const c = await converge(reconciler(), (x) => isReady(x) && cond(x, 'Reconciling')?.status === 'False');
    const events = await restartEvents();
    expect(events.map((m) => /^restarting (\S+):/.exec(m)?.[1])).toEqual(['events-broker-2', 'events-broker-1', 'events-broker-0']);
    expect(eventErrors).toEqual([]);
    for (const m of events) expect(m).toMatch(/broker configuration changed \(config hash [0-9a-f]{16} -> [0-9a-f]{16}\)/);
    const after = await brokerPods();
    expect(after).toHaveLength(3);
    for (const p of after) expect(p.metadata!.uid, p.metadata!.name).not.toBe(before.get(p.metadata!.name!));
    expect(new Set(after.map((p) => p.metadata!.labels!['controller-revision-hash'])).size).toBe(1);
    expect(c.status?.readyReplicas).toBe(3);
  });

  it('refuses a config value the broker would refuse, Stalled with the key named, and recovers when it is fixed', async () => {
    await patchSpec({ config: { 'num.partitions': 'many' } });
    await expect(reconciler().reconcile(KEY)).rejects.toBeInstanceOf(TerminalError);
    const c = await readCluster();
    expect(cond(c, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec', observedGeneration: c.metadata.generation });
    expect(cond(c, 'Stalled')!.message).toMatch(/^spec\.config: .*num\.partitions/);
    expect(cond(c, 'Ready')!.status).toBe('False');
    await patchSpec({ config: { 'num.partitions': '2' } });
    const fixed = await converge(reconciler(), isReady);
    expect(cond(fixed, 'Stalled')!.status).toBe('False');
  });

  it('refuses a scale-down that would remove a broker holding partition replicas, and keeps the broker', async () => {
    await patchSpec({ replicas: 2 });
    const r = reconciler({ replicasHeld: async (_c, ordinals) => new Map(ordinals.map((o) => [o, 4])) });
    await r.reconcile(KEY);
    const c = await readCluster();
    expect(cond(c, 'Stalled')).toMatchObject({ status: 'True', reason: 'ScaleDownRefused' });
    expect(cond(c, 'Stalled')!.message).toMatch(/broker 2 holds 4 partition replicas/);
    const sts = await cp.kubeConfig.makeApiClient(k8s.AppsV1Api).readNamespacedStatefulSet({ namespace: NS, name: 'events-broker' });
    expect(sts.spec!.replicas).toBe(3);
    expect((await brokerPods()).map((p) => p.metadata!.name).sort()).toEqual(['events-broker-0', 'events-broker-1', 'events-broker-2']);
    // Once the broker holds nothing, the scale-down goes ahead.
    const empty = reconciler({ replicasHeld: async (_c, ordinals) => new Map(ordinals.map((o) => [o, 0])) });
    const done = await converge(empty, (x) => isReady(x) && x.status?.replicas === 2);
    expect(done.status?.readyReplicas).toBe(2);
  });

  it('keeps the claim templates when the spec asks for another size, instead of a StatefulSet update Kubernetes refuses', async () => {
    await patchSpec({ storage: { size: '2Gi' } });
    const c = await converge(reconciler({ replicasHeld: async (_c, ordinals) => new Map(ordinals.map((o) => [o, 0])) }), isReady);
    expect(cond(c, 'Stalled')!.status).toBe('False');
    const sts = await cp.kubeConfig.makeApiClient(k8s.AppsV1Api).readNamespacedStatefulSet({ namespace: NS, name: 'events-broker' });
    expect(sts.spec!.volumeClaimTemplates![0]!.spec!.resources!.requests).toEqual({ storage: '1Gi' });
  });
});
