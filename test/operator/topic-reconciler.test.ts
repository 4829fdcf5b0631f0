// The StrataTopic reconciler against a real kube-apiserver and etcd and a real Strata broker on
// 127.0.0.1 (the cluster's DNS names do not resolve here, so bootstrapOf points at the broker). The
// test calls reconcile() as the work queue would and checks what the broker says (through the
// admin client and kcat) and what the status says: a topic is created, its configuration altered
// (a key set, a key removed and so reset), its partitions extended; a decrease and a bad config are
// Stalled naming the reason and change nothing; deleting the resource deletes the topic; a missing
// cluster or unreachable brokers never keep a deleted resource around.
// `bin/strata` runs the bundle in dist/; rebuild it first (npm run build).
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, StrataTopic } from '../../operator/api/v1alpha1.js';
import { TOPIC_FINALIZER, TOPIC_RESYNC_MS, TopicReconciler, type TopicReconcilerOptions } from '../../operator/controller/topic-reconciler.js';
import { TerminalError } from '../../operator/controller/worker.js';
import { AdminConnectError, ConfigSource, KafkaAdmin, ResourceType } from '../../operator/kafka/admin.js';
import { SETTINGS } from '../../operator/reconcile/test-fixtures.js';
import { type BrokerProcess, runProcess, startBroker } from '../broker/harness.js';
import { installCrds, startControlPlane, type ControlPlane } from './control-plane.js';
import { freePort } from './local-pod.js';

const NS = 'streaming';
let cp: ControlPlane;
let custom: k8s.CustomObjectsApi;
let broker: BrokerProcess;

const reconciler = (over: Partial<TopicReconcilerOptions> = {}) => new TopicReconciler({ kubeConfig: cp.kubeConfig, settings: SETTINGS, bootstrapOf: () => [broker.bootstrap], ...over });
const obj = (plural: string, name: string) => ({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural, name });

async function readTopic(name: string): Promise<(StrataTopic & { metadata: { finalizers?: string[] } }) | undefined> {
  try {
    return (await custom.getNamespacedCustomObject(obj('stratatopics', name))) as StrataTopic;
  } catch (e) {
    if (e instanceof k8s.ApiException && e.code === 404) return undefined;
    throw e;
  }
}
const cond = (t: StrataTopic | undefined, type: string): Condition | undefined => t?.status?.conditions?.find((x) => x.type === type);

async function createTopic(name: string, spec: Record<string, unknown>): Promise<void> {
  await custom.createNamespacedCustomObject({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'stratatopics', body: { apiVersion: 'strata.dev/v1alpha1', kind: 'StrataTopic', metadata: { name, namespace: NS }, spec } });
}
async function patchSpec(name: string, spec: Record<string, unknown>): Promise<void> {
  await custom.patchNamespacedCustomObject({ ...obj('stratatopics', name), body: { spec } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
}
async function createCluster(name: string): Promise<void> {
  await custom.createNamespacedCustomObject({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', body: { apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name, namespace: NS }, spec: { replicas: 1 } } });
}

/** What the broker says of a topic: partitions, id, and the configs set on it. */
async function onBroker(name: string): Promise<{ topicId: string; partitions: number; configs: Record<string, string> } | null> {
  const admin = await KafkaAdmin.connect({ bootstrap: [broker.bootstrap] });
  try {
    const t = await admin.describeTopic(name);
    if (t === null) return null;
    const configs = Object.fromEntries((await admin.describeConfigs(ResourceType.TOPIC, name)).filter((c) => c.source === ConfigSource.DYNAMIC_TOPIC_CONFIG).map((c) => [c.name, c.value!]));
    return { topicId: t.topicId, partitions: t.partitions.length, configs };
  } finally {
    admin.close();
  }
}

async function kcatPartitions(name: string): Promise<number> {
  const r = await runProcess('kcat', ['-L', '-J', '-b', broker.bootstrap, '-t', name, '-m', '10'], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`kcat -L failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { topics: { topic: string; partitions: unknown[] }[] }).topics.find((t) => t.topic === name)!.partitions.length;
}

beforeAll(async () => {
  // Both are kept as soon as each is up, so afterAll stops whichever started when the other failed.
  const started = await Promise.allSettled([startControlPlane().then((x) => (cp = x)), startBroker({ overrides: ['node.id=0'] }).then((x) => (broker = x))]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  custom = cp.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  await installCrds(cp);
  await k8s.KubernetesObjectApi.makeApiClient(cp.kubeConfig).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await createCluster('events');
});

afterAll(async () => {
  await Promise.all([cp?.stop(), broker?.stop()]);
});

describe('the StrataTopic reconciler with a real broker', () => {
  it('creates the topic with its partitions and configs, adds its finalizer, and reports it Ready', async () => {
    await createTopic('orders', { clusterRef: { name: 'events' }, partitions: 2, config: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } });
    expect(await reconciler().reconcile(`${NS}/orders`)).toEqual({ requeueAfterMs: TOPIC_RESYNC_MS });
    const b = await onBroker('orders');
    expect(b).toMatchObject({ partitions: 2, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } });
    expect(await kcatPartitions('orders')).toBe(2);
    const t = await readTopic('orders');
    expect(t!.metadata.finalizers).toEqual([TOPIC_FINALIZER]);
    expect(t!.status).toMatchObject({ observedGeneration: 1, topicName: 'orders', topicId: b!.topicId, partitions: 2 });
    expect(cond(t, 'Ready')).toMatchObject({ status: 'True', reason: 'TopicReady', observedGeneration: 1 });
    expect(cond(t, 'Stalled')).toMatchObject({ status: 'False' });
    // Nothing changed: a second reconcile keeps the status as it is.
    await reconciler().reconcile(`${NS}/orders`);
    expect((await readTopic('orders'))!.metadata.resourceVersion).toBe(t!.metadata.resourceVersion);
  });

  it('sets a changed config and resets one removed from the spec', async () => {
    await patchSpec('orders', { config: { 'retention.ms': '7200000', 'cleanup.policy': null } });
    await reconciler().reconcile(`${NS}/orders`);
    expect((await onBroker('orders'))!.configs).toEqual({ 'retention.ms': '7200000' });
    const admin = await KafkaAdmin.connect({ bootstrap: [broker.bootstrap] });
    try {
      expect((await admin.describeConfigs(ResourceType.TOPIC, 'orders')).find((c) => c.name === 'cleanup.policy')).toMatchObject({ value: 'delete', source: ConfigSource.DEFAULT_CONFIG });
    } finally {
      admin.close();
    }
    const t = await readTopic('orders');
    expect(t!.status).toMatchObject({ observedGeneration: 2, partitions: 2 });
    expect(cond(t, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
  });

  it('extends the partitions', async () => {
    const id = (await onBroker('orders'))!.topicId;
    await patchSpec('orders', { partitions: 4 });
    await reconciler().reconcile(`${NS}/orders`);
    expect(await onBroker('orders')).toMatchObject({ topicId: id, partitions: 4 });
    expect(await kcatPartitions('orders')).toBe(4);
    const t = await readTopic('orders');
    expect(t!.status).toMatchObject({ observedGeneration: 3, topicId: id, partitions: 4 });
    expect(cond(t, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 3 });
  });

  it('refuses fewer partitions with a Stalled condition and leaves the topic as it is', async () => {
    await patchSpec('orders', { partitions: 3 });
    await expect(reconciler().reconcile(`${NS}/orders`)).rejects.toBeInstanceOf(TerminalError);
    const t = await readTopic('orders');
    expect(cond(t, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec', observedGeneration: 4 });
    expect(cond(t, 'Stalled')!.message).toMatch(/^spec\.partitions: topic orders has 4 partitions and Kafka cannot remove partitions/);
    expect(cond(t, 'Ready')).toMatchObject({ status: 'False', observedGeneration: 4 });
    expect(t!.status?.partitions).toBe(4);
    expect((await onBroker('orders'))!.partitions).toBe(4);
    expect(await kcatPartitions('orders')).toBe(4);
  });

  it('refuses a bad config value naming the key, and recovers once the spec is fixed', async () => {
    await patchSpec('orders', { partitions: 4, config: { 'retention.ms': 'forever' } });
    await expect(reconciler().reconcile(`${NS}/orders`)).rejects.toBeInstanceOf(TerminalError);
    const t = await readTopic('orders');
    expect(cond(t, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec', observedGeneration: t!.metadata.generation });
    expect(cond(t, 'Stalled')!.message).toMatch(/^spec\.config: .*retention\.ms/);
    expect((await onBroker('orders'))!.configs).toEqual({ 'retention.ms': '7200000' });
    await patchSpec('orders', { config: { 'retention.ms': '600000' } });
    await reconciler().reconcile(`${NS}/orders`);
    const fixed = await readTopic('orders');
    expect(cond(fixed, 'Ready')).toMatchObject({ status: 'True', observedGeneration: fixed!.metadata.generation });
    expect(cond(fixed, 'Stalled')!.status).toBe('False');
    expect((await onBroker('orders'))!.configs).toEqual({ 'retention.ms': '600000' });
  });

  it('reports a change the broker refuses as Stalled with the broker\'s reason', async () => {
    // One broker: a replication factor of 2 is INVALID_REPLICATION_FACTOR.
    await createTopic('replicated', { clusterRef: { name: 'events' }, partitions: 1, replicationFactor: 2 });
    await expect(reconciler().reconcile(`${NS}/replicated`)).rejects.toBeInstanceOf(TerminalError);
    const t = await readTopic('replicated');
    expect(cond(t, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cond(t, 'Stalled')!.message).toMatch(/^spec\.replicationFactor: the broker refused it \(INVALID_REPLICATION_FACTOR\)/);
    expect(await onBroker('replicated')).toBeNull();
  });

  it('reports a config the broker refuses (a rule only the broker knows) as Stalled naming the key', async () => {
    // planTopic's own check passes it; the broker refuses tiering while its tiered storage is off.
    await createTopic('tiered', { clusterRef: { name: 'events' }, partitions: 1, config: { 'remote.storage.enable': 'true' } });
    await expect(reconciler().reconcile(`${NS}/tiered`)).rejects.toBeInstanceOf(TerminalError);
    const t = await readTopic('tiered');
    expect(cond(t, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec', observedGeneration: 1 });
    expect(cond(t, 'Stalled')!.message).toMatch(/^spec\.config: the broker refused it \(INVALID_CONFIG\): .*remote\.storage\.enable/);
    expect(await onBroker('tiered')).toBeNull();
  });

  it('recreates a topic deleted behind its back', async () => {
    const admin = await KafkaAdmin.connect({ bootstrap: [broker.bootstrap] });
    try {
      await admin.deleteTopic('orders');
    } finally {
      admin.close();
    }
    await reconciler().reconcile(`${NS}/orders`);
    const b = await onBroker('orders');
    expect(b).toMatchObject({ partitions: 4, configs: { 'retention.ms': '600000' } });
    expect((await readTopic('orders'))!.status?.topicId).toBe(b!.topicId);
  });

  it('deletes the Kafka topic when the StrataTopic is deleted, then lets the resource go', async () => {
    await custom.deleteNamespacedCustomObject(obj('stratatopics', 'orders'));
    const held = await readTopic('orders');
    expect(held!.metadata.finalizers).toEqual([TOPIC_FINALIZER]);
    expect(await onBroker('orders')).not.toBeNull();
    expect(await reconciler().reconcile(`${NS}/orders`)).toEqual({});
    expect(await onBroker('orders')).toBeNull();
    expect(await readTopic('orders')).toBeUndefined();
  });

  it('waits for a missing cluster, and drops the finalizer without asking any broker when it is deleted', async () => {
    const asked: string[] = [];
    const r = reconciler({ bootstrapOf: (c) => (asked.push(c.metadata.name), [broker.bootstrap]) });
    await createTopic('orphan', { clusterRef: { name: 'nowhere' }, partitions: 1 });
    expect((await r.reconcile(`${NS}/orphan`)).requeueAfterMs).toBeGreaterThan(0);
    const t = await readTopic('orphan');
    expect(cond(t, 'Reconciling')).toMatchObject({ status: 'True', reason: 'WaitingForCluster', message: 'StrataCluster nowhere does not exist' });
    expect(t!.metadata.finalizers).toEqual([TOPIC_FINALIZER]);
    await custom.deleteNamespacedCustomObject(obj('stratatopics', 'orphan'));
    await r.reconcile(`${NS}/orphan`);
    expect(await readTopic('orphan')).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('retries unreachable brokers with back-off, and lets the resource go once their cluster is deleted', async () => {
    await createCluster('dark');
    const closed = `127.0.0.1:${await freePort()}`;
    const r = reconciler({ bootstrapOf: () => [closed], admin: { connectTimeoutMs: 2_000 } });
    await createTopic('unreached', { clusterRef: { name: 'dark' }, partitions: 1 });
    const e = await r.reconcile(`${NS}/unreached`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdminConnectError);
    expect(e).not.toBeInstanceOf(TerminalError);
    const t = await readTopic('unreached');
    expect(cond(t, 'Reconciling')).toMatchObject({ status: 'True', reason: 'WaitingForCluster' });
    expect(cond(t, 'Reconciling')!.message).toMatch(/the brokers of StrataCluster dark did not answer/);
    await custom.deleteNamespacedCustomObject(obj('stratatopics', 'unreached'));
    // The cluster is still there: the topic cannot be deleted yet, and the finalizer stays.
    await expect(r.reconcile(`${NS}/unreached`)).rejects.toBeInstanceOf(AdminConnectError);
    expect((await readTopic('unreached'))!.metadata.finalizers).toEqual([TOPIC_FINALIZER]);
    await custom.deleteNamespacedCustomObject(obj('strataclusters', 'dark'));
    await r.reconcile(`${NS}/unreached`);
    expect(await readTopic('unreached')).toBeUndefined();
  });
});
