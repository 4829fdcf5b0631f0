// Live broker configuration through the cluster reconciler, for real: a control plane with kwok fake
// nodes runs the broker pod of a one-broker StrataCluster, and a Strata broker process on 127.0.0.1
// with node.id 0 stands in for what that pod runs (kwok runs no container, and the pod's DNS name
// does not resolve here). A change to spec.config that touches only keys the broker can change at
// run time is applied to the broker with IncrementalAlterConfigs: the broker reports the new value,
// the pod is not restarted, the pod template keeps its config hash, the ConfigMap carries the new
// value, and an Event says it was applied live. A key that needs a restart still rolls.
// `bin/strata` runs the bundle in dist/; rebuild it first (npm run build).
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, StrataCluster } from '../../operator/api/v1alpha1.js';
import { liveConfigOnBrokers } from '../../operator/controller/brokers.js';
import { ClusterReconciler } from '../../operator/controller/cluster-reconciler.js';
import { ConfigSource, KafkaAdmin, ResourceType } from '../../operator/kafka/admin.js';
import { ANNOTATION_CONFIG_HASH } from '../../operator/reconcile/names.js';
import { SETTINGS } from '../../operator/reconcile/test-fixtures.js';
import { type BrokerProcess, startBroker } from '../broker/harness.js';
import { fakeNode, installCrds, startControlPlane, type ControlPlane } from './control-plane.js';
import { nodesProblem } from './peers.js';

const NS = 'live';
const NAME = 'events';
const KEY = `${NS}/${NAME}`;
const STORAGE_CLASS = 'kwok-static';
const STEPS_MAX = 240;
const STEP_PAUSE_MS = 500;
let cp: ControlPlane;
let custom: k8s.CustomObjectsApi;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let broker: BrokerProcess;

const eventErrors: unknown[] = [];
const brokerErrors: unknown[] = [];
const reconciler = () =>
  new ClusterReconciler({
    kubeConfig: cp.kubeConfig,
    settings: SETTINGS,
    capabilities: async () => ({ serviceMonitor: false, prometheusRule: false }),
    onEventError: (e) => eventErrors.push(e),
    liveConfig: liveConfigOnBrokers({ addressOf: () => broker.bootstrap, onError: (_c, _o, e) => brokerErrors.push(e) }),
  });

const readCluster = async () => (await custom.getNamespacedCustomObject({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: NAME })) as StrataCluster;
const cond = (c: StrataCluster, type: string): Condition | undefined => c.status?.conditions?.find((x) => x.type === type);
const isReady = (c: StrataCluster) => cond(c, 'Ready')?.status === 'True' && c.status?.observedGeneration === c.metadata.generation;

async function patchConfig(config: Record<string, string | null>): Promise<void> {
  await custom.patchNamespacedCustomObject(
    { group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: NAME, body: { spec: { config } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

async function converge(done: (c: StrataCluster) => boolean): Promise<StrataCluster> {
  const r = reconciler();
  for (let step = 0; step < STEPS_MAX; step++) {
    await r.reconcile(KEY);
    const c = await readCluster();
    if (done(c)) return c;
    await new Promise((res) => setTimeout(res, STEP_PAUSE_MS));
  }
  throw new Error(`the cluster did not settle in ${STEPS_MAX} reconciles: ${JSON.stringify((await readCluster()).status)}`);
}

async function events(reason: string): Promise<string[]> {
  const list = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${NAME}` });
  return list.items
    .filter((e) => e.reason === reason)
    .sort((a, b) => new Date(a.eventTime as unknown as string).getTime() - new Date(b.eventTime as unknown as string).getTime())
    .map((e) => e.message!);
}

const templateHash = async () => (await apps.readNamespacedStatefulSet({ namespace: NS, name: `${NAME}-broker` })).spec!.template.metadata!.annotations![ANNOTATION_CONFIG_HASH];
const podUid = async () => (await core.readNamespacedPod({ namespace: NS, name: `${NAME}-broker-0` })).metadata!.uid!;
const configMapText = async () => (await core.readNamespacedConfigMap({ namespace: NS, name: `${NAME}-config` })).data!['server.properties']!;

async function brokerValue(key: string): Promise<{ value: string | null; source: number }> {
  const admin = await KafkaAdmin.connect({ bootstrap: [broker.bootstrap] });
  try {
    const c = (await admin.describeConfigs(ResourceType.BROKER, '0')).find((x) => x.name === key)!;
    return { value: c.value, source: c.source };
  } finally {
    admin.close();
  }
}

beforeAll(async () => {
  const problem = nodesProblem();
  if (problem !== null) throw new Error(problem);
  // Both are kept as soon as each is up, so afterAll stops whichever started when the other failed.
  const started = await Promise.allSettled([startControlPlane({ nodes: true }).then((x) => (cp = x)), startBroker({ overrides: ['node.id=0'] }).then((x) => (broker = x))]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  const api = k8s.KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  custom = cp.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  core = cp.kubeConfig.makeApiClient(k8s.CoreV1Api);
  apps = cp.kubeConfig.makeApiClient(k8s.AppsV1Api);
  await installCrds(cp);
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await api.create(fakeNode('kwok-node-0') as k8s.KubernetesObject);
  await api.create({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'pv-live-0' },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: '/tmp/strata-kwok-pv-live-0' } },
  } as k8s.KubernetesObject);
  await api.create({
    apiVersion: 'strata.dev/v1alpha1',
    kind: 'StrataCluster',
    metadata: { name: NAME, namespace: NS },
    spec: { replicas: 1, storage: { size: '1Gi', storageClassName: STORAGE_CLASS }, config: { 'num.partitions': '1', 'log.retention.ms': '3600000' } },
  } as k8s.KubernetesObject);
});

afterAll(async () => {
  await Promise.all([cp?.stop(), broker?.stop()]);
});

describe('broker keys applied live by the cluster reconciler', () => {
  it('brings the cluster to Ready and gives the running broker the live keys of the spec', async () => {
    await converge(isReady);
    // The stand-in broker did not start from the ConfigMap, so the reconciler set the key live.
    expect(await brokerValue('log.retention.ms')).toEqual({ value: '3600000', source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    expect(await events('ConfigAppliedLive')).toEqual([`broker configuration applied without a restart: ${NAME}-broker-0 (log.retention.ms=3600000)`]);
  });

  it('applies a change of live keys only without restarting the broker or changing the pod template', async () => {
    const hash = await templateHash();
    const uid = await podUid();
    await patchConfig({ 'log.retention.ms': '7200000', 'log.segment.bytes': '2097152' });
    const c = await converge((x) => isReady(x));
    expect(await brokerValue('log.retention.ms')).toEqual({ value: '7200000', source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    expect(await brokerValue('log.segment.bytes')).toEqual({ value: '2097152', source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    expect(await templateHash()).toBe(hash);
    expect(await podUid()).toBe(uid);
    expect(await events('RestartingBroker')).toEqual([]);
    const text = await configMapText();
    expect(text).toContain('log.retention.ms=7200000\n');
    expect(text).toContain('log.segment.bytes=2097152\n');
    expect((await events('ConfigAppliedLive')).at(-1)).toBe(`broker configuration applied without a restart: ${NAME}-broker-0 (log.retention.ms=7200000, log.segment.bytes=2097152)`);
    expect(cond(c, 'Reconciling')!.status).toBe('False');
    expect(brokerErrors).toEqual([]);
    expect(eventErrors).toEqual([]);
  });

  it('resets a live key removed from the spec, still without a restart', async () => {
    const hash = await templateHash();
    const uid = await podUid();
    await patchConfig({ 'log.segment.bytes': null });
    await converge(isReady);
    expect((await brokerValue('log.segment.bytes')).source).toBe(ConfigSource.DEFAULT_CONFIG);
    expect(await templateHash()).toBe(hash);
    expect(await podUid()).toBe(uid);
    expect(await configMapText()).not.toContain('log.segment.bytes');
    expect((await events('ConfigAppliedLive')).at(-1)).toBe(`broker configuration applied without a restart: ${NAME}-broker-0 (log.segment.bytes reset)`);
  });

  it('rolls the broker for a key it cannot change at run time', async () => {
    const hash = await templateHash();
    await patchConfig({ 'num.partitions': '2' });
    await converge((x) => isReady(x) && cond(x, 'Reconciling')?.status === 'False');
    expect(await templateHash()).not.toBe(hash);
    expect(await events('RestartingBroker')).toEqual([expect.stringMatching(new RegExp(`^restarting ${NAME}-broker-0: broker configuration changed`))]);
  });
});
