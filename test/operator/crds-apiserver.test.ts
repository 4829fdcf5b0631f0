// The generated CRDs against a real kube-apiserver and etcd (hack/peers/k8s.sh builds them): the
// committed crds/*.yaml apply with kubectl, a bad StrataCluster or StrataTopic is refused with a
// message naming the field, a valid one is stored exactly as sent (no server-side defaults), the
// scale subresource answers, and everything the operator renders for a stored cluster passes the
// API server's own validation through the operator's apply step (server-side apply, dry run).
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StrataCluster, StrataTopic } from '../../operator/api/v1alpha1.js';
import { ApplyError, applyObjects } from '../../operator/kube/apply.js';
import { desiredClusterObjects } from '../../operator/reconcile/cluster.js';
import { clusterStatus } from '../../operator/reconcile/status.js';
import { SETTINGS } from '../../operator/reconcile/test-fixtures.js';
import { runProcess } from '../broker/harness.js';
import { installCrds, startControlPlane, type ControlPlane } from './control-plane.js';
import { apiServerProblem, k8sPeers } from './peers.js';

const NS = 'streaming';
let cp: ControlPlane;
let api: k8s.KubernetesObjectApi;
let custom: k8s.CustomObjectsApi;

function cluster(name: string, spec: unknown): StrataCluster {
  return { apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name, namespace: NS }, spec } as StrataCluster;
}
function topic(name: string, spec: unknown): StrataTopic {
  return { apiVersion: 'strata.dev/v1alpha1', kind: 'StrataTopic', metadata: { name, namespace: NS }, spec } as StrataTopic;
}

/** The API server's refusal of `write()`: its status code and message. */
async function refusal(write: () => Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await write();
  } catch (e) {
    if (!(e instanceof k8s.ApiException)) throw e;
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string };
    return { code: e.code, message: body.message ?? String(e.body) };
  }
  throw new Error('the API server accepted it');
}

beforeAll(async () => {
  const problem = apiServerProblem();
  if (problem !== null) throw new Error(problem);
  cp = await startControlPlane();
  api = k8s.KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  custom = cp.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  // The committed files, applied the way a user does.
  await installCrds(cp);
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
});

afterAll(async () => {
  await cp?.stop();
});

describe('the StrataCluster CRD on a real API server', () => {
  const refused: [string, unknown, RegExp][] = [
    ['no replicas', {}, /spec\.replicas: Required value/],
    ['zero replicas', { replicas: 0 }, /spec\.replicas: Invalid value: 0: spec\.replicas in body should be greater than or equal to 1/],
    ['a key the operator owns in config', { replicas: 1, config: { 'node.id': '3', 'num.partitions': '3' } }, /spec\.config: Forbidden: must not set node\.id: the operator sets it from the pod ordinal/],
    ['a number as a config value', { replicas: 1, config: { 'num.partitions': 3 } }, /spec\.config\.num\.partitions: Invalid value: "integer": spec\.config\.num\.partitions in body must be of type string/],
    ['a bucket without its credentials Secret', { replicas: 1, tieredStorage: { bucket: 'strata-tiered' } }, /spec\.tieredStorage\.credentialsSecret: Required value/],
    ['credentials without a bucket', { replicas: 1, tieredStorage: { credentialsSecret: { name: 's3' } } }, /spec\.tieredStorage\.bucket: Required value/],
    ['an absolute prefix', { replicas: 1, tieredStorage: { bucket: 'strata-tiered', prefix: '/abs', credentialsSecret: { name: 's3' } } }, /spec\.tieredStorage\.prefix: Invalid value: "string": must not start with '\/'/],
    ['two listeners on one port', { replicas: 1, listeners: [{ name: 'A', port: 9092 }, { name: 'B', port: 9092 }] }, /spec\.listeners: Invalid value: "array": every listener needs a port of its own/],
    ['a lower-case listener name', { replicas: 1, listeners: [{ name: 'plain', port: 9092 }] }, /spec\.listeners\[0\]\.name: Invalid value: "plain"/],
    ['a bad storage size', { replicas: 1, storage: { size: 'ten gigs' } }, /spec\.storage\.size: Invalid value: "ten gigs"/],
  ];
  for (const [what, spec, message] of refused) {
    it(`refuses ${what}, naming the field`, async () => {
      const r = await refusal(() => api.create(cluster('bad', spec)));
      expect(r.code).toBe(422);
      expect(r.message).toMatch(message);
    });
  }

  it('refuses a name too long for the objects it owns', async () => {
    const r = await refusal(() => api.create(cluster('a'.repeat(41), { replicas: 1 })));
    expect(r.message).toMatch(/metadata\.name must be at most 40 characters/);
  });

  it('stores a valid cluster exactly as sent: no defaults are injected', async () => {
    const full = {
      replicas: 3,
      image: 'ghcr.io/strata/strata:0.1.0',
      imagePullPolicy: 'IfNotPresent',
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: 2147483648 } },
      storage: { size: '20Gi', storageClassName: 'fast', deleteClaim: false },
      tieredStorage: { bucket: 'strata-tiered', endpoint: 'http://s3.local:7070', region: 'eu-west-1', prefix: 'prod/a', pathStyle: true, credentialsSecret: { name: 's3' }, localRetentionMs: 3600000, localRetentionBytes: -2 },
      config: { 'num.partitions': '3', 'log.retention.hours': '24' },
      listeners: [{ name: 'PLAINTEXT', port: 9092 }, { name: 'EXTERNAL', port: 9094 }],
      metrics: { serviceMonitor: true, prometheusRule: false },
      pod: {
        annotations: { 'example.com/a': 'b' },
        labels: { team: 'data' },
        affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'strata.dev/cluster': 'full' } } } }] } },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'kafka', effect: 'NoSchedule' }],
        nodeSelector: { disk: 'ssd' },
        priorityClassName: 'high',
        terminationGracePeriodSeconds: 300,
      },
    };
    for (const [name, spec] of [['full', full], ['minimal', { replicas: 1 }]] as const) {
      await api.create(cluster(name, spec));
      const stored = await api.read({ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name, namespace: NS } });
      expect((stored as unknown as StrataCluster).spec, name).toStrictEqual(spec);
      expect(stored, name).not.toHaveProperty('status');
    }
  });

  it('shows the printer columns in kubectl get', async () => {
    const r = await runProcess(k8sPeers().kubectl, ['--kubeconfig', cp.kubeConfigFile, 'get', 'strataclusters', '-n', NS, 'full'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]!.split(/\s+/).filter((x) => x !== '')).toEqual(['NAME', 'DESIRED', 'BROKERS', 'READY', 'BOOTSTRAP', 'AGE']);
    expect(r.stdout.split('\n')[1]).toMatch(/^full\s+3\s/);
  });

  it('answers the scale subresource from spec.replicas', async () => {
    const scale = (await custom.getNamespacedCustomObjectScale({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'full' })) as { spec: { replicas: number } };
    expect(scale.spec.replicas).toBe(3);
  });

  it('refuses a change of storage class once set', async () => {
    const r = await refusal(() =>
      custom.patchNamespacedCustomObject(
        { group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'full', body: { spec: { storage: { storageClassName: 'slow' } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
    expect(r.message).toMatch(/spec\.storage: Invalid value: "object": storageClassName cannot be changed once set/);
  });

  it('accepts every object the operator renders for the stored cluster (server-side apply, dry run)', async () => {
    for (const name of ['full', 'minimal']) {
      const stored = (await api.read({ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name, namespace: NS } })) as unknown as StrataCluster;
      // This API server has no monitoring CRDs, so the ServiceMonitor is left out as the operator would.
      const { objects } = desiredClusterObjects(stored, SETTINGS, { serviceMonitor: false, prometheusRule: false });
      expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'Service', 'Service', 'StatefulSet', 'PodDisruptionBudget']);
      const applied = await applyObjects(api, objects, { dryRun: true });
      for (const a of applied) expect(a.metadata?.ownerReferences?.[0]?.uid, `${a.kind}/${a.metadata?.name}`).toBe(stored.metadata.uid);
      expect(applied.map((a) => a.metadata?.managedFields?.[0]?.manager)).toEqual(objects.map(() => 'strata-operator'));
    }
  });

  it('stores the status the operator computes through the status subresource, and answers scale from it', async () => {
    const stored = (await api.read({ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name: 'full', namespace: NS } })) as unknown as StrataCluster;
    const status = clusterStatus(
      stored,
      { kind: 'applied', bootstrapServers: 'full-bootstrap.streaming.svc.cluster.local:9092', statefulSet: { observedGeneration: 1, generation: 1, replicas: 3, readyReplicas: 2 }, roll: { action: 'done' } },
      '2026-01-01T00:00:00Z',
    );
    const written = (await custom.replaceNamespacedCustomObjectStatus({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'full', body: { ...stored, status } })) as StrataCluster;
    expect(written.status).toStrictEqual(status);
    // The status subresource leaves the spec alone, and the spec endpoint leaves the status alone.
    expect(written.spec).toStrictEqual(stored.spec);
    const scale = (await custom.getNamespacedCustomObjectScale({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'full' })) as { status: { replicas: number; selector: string } };
    expect(scale.status).toEqual({ replicas: 3, selector: 'strata.dev/cluster=full,app.kubernetes.io/component=broker' });
    const bad = await refusal(() =>
      custom.replaceNamespacedCustomObjectStatus({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'full', body: { ...written, status: { ...status, conditions: [{ type: 'Ready', status: 'Maybe' }] } } }),
    );
    expect(bad.message).toMatch(/status\.conditions\[0\]\.status: Unsupported value: "Maybe"/);
  });

  it('reports an object the API server refuses as a non-retriable ApplyError naming it', async () => {
    const bad = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad-service', namespace: NS }, spec: { ports: [{ port: 70000 }] } };
    const e = await applyObjects(api, [bad], { dryRun: true }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ApplyError);
    expect((e as ApplyError).message, (e as Error).message).toMatch(/^apply Service streaming\/bad-service: HTTP 422: .*spec\.ports\[0\]\.port/);
    expect((e as ApplyError).retriable).toBe(false);
  });
});

describe('the StrataTopic CRD on a real API server', () => {
  it('refuses a topic without partitions or cluster, or with zero partitions, naming the field', async () => {
    expect((await refusal(() => api.create(topic('t', { clusterRef: { name: 'full' } })))).message).toMatch(/spec\.partitions: Required value/);
    expect((await refusal(() => api.create(topic('t', { partitions: 3 })))).message).toMatch(/spec\.clusterRef: Required value/);
    expect((await refusal(() => api.create(topic('t', { clusterRef: { name: 'full' }, partitions: 0 })))).message).toMatch(/spec\.partitions: Invalid value: 0/);
    expect((await refusal(() => api.create(topic('t', { clusterRef: { name: 'full' }, partitions: 1, topicName: 'no spaces' })))).message).toMatch(/spec\.topicName: Invalid value: "no spaces"/);
  });

  it('stores a valid topic as sent and refuses renaming it or moving it to another cluster', async () => {
    const spec = { clusterRef: { name: 'full' }, topicName: 'Orders_v1', partitions: 6, replicationFactor: 1, config: { 'retention.ms': '86400000' } };
    await api.create(topic('orders', spec));
    const stored = (await api.read({ apiVersion: 'strata.dev/v1alpha1', kind: 'StrataTopic', metadata: { name: 'orders', namespace: NS } })) as unknown as StrataTopic;
    expect(stored.spec).toStrictEqual(spec);
    const patch = (body: unknown) => () =>
      custom.patchNamespacedCustomObject({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'stratatopics', name: 'orders', body }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    expect((await refusal(patch({ spec: { topicName: 'Orders_v2' } }))).message).toMatch(/spec\.topicName: Invalid value: "string": topicName cannot be changed/);
    expect((await refusal(patch({ spec: { clusterRef: { name: 'other' } } }))).message).toMatch(/spec\.clusterRef: Invalid value: "object": clusterRef cannot be changed/);
    // Growing the topic is an ordinary update.
    await patch({ spec: { partitions: 8 } })();
  });
});
