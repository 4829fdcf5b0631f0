import type { V1ConfigMap, V1PodDisruptionBudget, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { StrataClusterSpec } from '../api/v1alpha1.js';
import { InvalidSpecError } from './broker-config.js';
import { desiredClusterObjects, type Capabilities, type KubeObject } from './cluster.js';
import { SETTINGS, storedCluster } from './test-fixtures.js';

const NONE: Capabilities = { serviceMonitor: false, prometheusRule: false };
const ALL: Capabilities = { serviceMonitor: true, prometheusRule: true };

function render(spec: StrataClusterSpec, caps = NONE) {
  return desiredClusterObjects(storedCluster(spec), SETTINGS, caps);
}
function find<T>(objects: KubeObject[], kind: string, name?: string): T {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  expect(o, `${kind} ${name ?? ''}`).toBeDefined();
  return o as unknown as T;
}
const sts = (spec: StrataClusterSpec) => find<V1StatefulSet>(render(spec).objects, 'StatefulSet');
const container = (spec: StrataClusterSpec) => sts(spec).spec!.template.spec!.containers[0]!;

describe('desiredClusterObjects', () => {
  it('creates the service account, config, services, StatefulSet and disruption budget, in apply order', () => {
    const { objects } = render({ replicas: 3 });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/events-broker',
      'ConfigMap/events-config',
      'Service/events-brokers',
      'Service/events-bootstrap',
      'StatefulSet/events-broker',
      'PodDisruptionBudget/events-broker',
    ]);
  });

  it('gives every object the namespace, the cluster labels and a controller owner reference', () => {
    for (const o of render({ replicas: 1 }, ALL).objects) {
      expect(o.metadata.namespace, o.kind).toBe('streaming');
      expect(o.metadata.labels, o.kind).toMatchObject({ 'strata.dev/cluster': 'events', 'app.kubernetes.io/managed-by': 'strata-operator' });
      expect(o.metadata.ownerReferences, o.kind).toEqual([
        { apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', name: 'events', uid: '6f1c2e4a-9b3d-4c5e-8f70-1a2b3c4d5e6f', controller: true, blockOwnerDeletion: true },
      ]);
    }
  });

  it('is pure: the same resource gives equal objects and is not modified', () => {
    const cluster = storedCluster({ replicas: 2, config: { 'num.partitions': '3' }, pod: { labels: { team: 'a' } } });
    const before = structuredClone(cluster);
    expect(desiredClusterObjects(cluster, SETTINGS, ALL)).toEqual(desiredClusterObjects(cluster, SETTINGS, ALL));
    expect(cluster).toEqual(before);
  });

  it('runs the brokers as a StatefulSet the operator rolls itself (OnDelete), in parallel, on the headless Service', () => {
    const s = sts({ replicas: 3 });
    expect(s.spec).toMatchObject({
      replicas: 3,
      serviceName: 'events-brokers',
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'OnDelete' },
      selector: { matchLabels: { 'strata.dev/cluster': 'events', 'app.kubernetes.io/component': 'broker' } },
    });
    expect(s.spec!.template.spec!.serviceAccountName).toBe('events-broker');
    expect(s.spec!.template.spec!.automountServiceAccountToken).toBe(false);
  });

  it('derives node.id from the pod ordinal and advertises the pod\'s stable DNS name', () => {
    const env = container({ replicas: 3 }).env!;
    const names = env.map((e) => e.name);
    expect(env.find((e) => e.name === 'STRATA_CONFIG_NODE_ID')).toEqual({ name: 'STRATA_CONFIG_NODE_ID', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } });
    expect(env.find((e) => e.name === 'STRATA_CONFIG_ADVERTISED_LISTENERS')!.value).toBe('PLAINTEXT://$(STRATA_POD_NAME).events-brokers.streaming.svc.cluster.local:9092');
    // $(VAR) expansion only sees variables defined earlier in the list.
    expect(names.indexOf('STRATA_POD_NAME')).toBeLessThan(names.indexOf('STRATA_CONFIG_ADVERTISED_LISTENERS'));
    expect(env.find((e) => e.name === 'STRATA_POD_NAME')!.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
  });

  it('reads the config file from the ConfigMap and keeps data on the claim', () => {
    const { objects, config } = render({ replicas: 1, storage: { size: '50Gi', storageClassName: 'fast' } });
    const s = find<V1StatefulSet>(objects, 'StatefulSet');
    const c = s.spec!.template.spec!.containers[0]!;
    expect(c.args).toEqual(['broker', '--config', '/etc/strata/server.properties']);
    expect(find<V1ConfigMap>(objects, 'ConfigMap').data).toEqual({ 'server.properties': config.properties });
    expect(s.spec!.template.spec!.volumes).toContainEqual({ name: 'config', configMap: { name: 'events-config' } });
    expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/strata' });
    expect(config.properties).toContain('log.dirs=/var/lib/strata/data\n');
    expect(s.spec!.volumeClaimTemplates![0]!.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '50Gi' } } });
  });

  it('uses the operator\'s defaults for an absent image and storage size', () => {
    const s = sts({ replicas: 1 });
    expect(s.spec!.template.spec!.containers[0]!.image).toBe(SETTINGS.image);
    expect(s.spec!.volumeClaimTemplates![0]!.spec!.resources!.requests).toEqual({ storage: '10Gi' });
    expect(s.spec!.volumeClaimTemplates![0]!.spec).not.toHaveProperty('storageClassName');
    expect(s.spec!.template.spec!.terminationGracePeriodSeconds).toBe(120);
  });

  it('keeps the claims unless the spec asks to delete them', () => {
    expect(sts({ replicas: 1 }).spec!.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts({ replicas: 1, storage: { deleteClaim: true } }).spec!.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Delete', whenScaled: 'Delete' });
  });

  it('passes the S3 credentials from the Secret as AWS_* variables', () => {
    const env = container({ replicas: 1, tieredStorage: { bucket: 'bkt', credentialsSecret: { name: 'creds', accessKeyIdKey: 'id', secretAccessKeyKey: 'secret' } } }).env!;
    expect(env).toContainEqual({ name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'creds', key: 'id' } } });
    expect(env).toContainEqual({ name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'secret' } } });
    expect(container({ replicas: 1 }).env!.map((e) => e.name)).not.toContain('AWS_ACCESS_KEY_ID');
  });

  it('is ready when the broker serves requests, and is not killed while it recovers its log', () => {
    const c = container({ replicas: 1 });
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // Liveness only starts once the start-up probe passes, and that one allows an hour.
    expect(c.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.startupProbe!.periodSeconds! * c.startupProbe!.failureThreshold!).toBeGreaterThanOrEqual(3600);
    expect(c.ports).toEqual([
      { name: 'kafka-0', containerPort: 9092, protocol: 'TCP' },
      { name: 'http', containerPort: 9644, protocol: 'TCP' },
    ]);
  });

  it('publishes not-ready brokers on the headless Service and load-balances bootstrap on the client Service', () => {
    const { objects, bootstrapServers } = render({ replicas: 3, listeners: [{ name: 'PLAINTEXT', port: 9092 }, { name: 'OTHER', port: 9093 }] });
    const headless = find<V1Service>(objects, 'Service', 'events-brokers');
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(headless.spec!.ports!.map((p) => p.port)).toEqual([9092, 9093, 9644]);
    const client = find<V1Service>(objects, 'Service', 'events-bootstrap');
    expect(client.spec!.type).toBe('ClusterIP');
    expect(client.spec!.ports!.map((p) => [p.name, p.port, p.targetPort])).toEqual([['kafka-0', 9092, 9092], ['kafka-1', 9093, 9093]]);
    expect(bootstrapServers).toBe('events-bootstrap.streaming.svc.cluster.local:9092,events-bootstrap.streaming.svc.cluster.local:9093');
  });

  it('lets at most one broker be disrupted at a time', () => {
    const pdb = find<V1PodDisruptionBudget>(render({ replicas: 3 }).objects, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'strata.dev/cluster': 'events', 'app.kubernetes.io/component': 'broker' } } });
  });

  it('changes the pod template exactly when the rendered config changes', () => {
    const hash = (spec: StrataClusterSpec) => sts(spec).spec!.template.metadata!.annotations!['strata.dev/config-hash'];
    expect(hash({ replicas: 1, config: { 'num.partitions': '2' } })).toBe(hash({ replicas: 4, config: { 'num.partitions': '2' } }));
    expect(hash({ replicas: 1, config: { 'num.partitions': '2' } })).not.toBe(hash({ replicas: 1, config: { 'num.partitions': '3' } }));
  });

  it('applies pod overrides, but a user label cannot take a pod out of the selector', () => {
    const s = sts({
      replicas: 1,
      pod: {
        labels: { team: 'data', 'strata.dev/cluster': 'other' },
        annotations: { 'example.com/a': 'b' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'kafka', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: {} },
        priorityClassName: 'high',
        nodeSelector: { disk: 'ssd' },
        terminationGracePeriodSeconds: 300,
      },
    });
    const t = s.spec!.template;
    expect(t.metadata!.labels).toMatchObject({ team: 'data', 'strata.dev/cluster': 'events' });
    expect(t.metadata!.annotations).toMatchObject({ 'example.com/a': 'b' });
    expect(t.spec).toMatchObject({
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'kafka', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: {} },
      priorityClassName: 'high',
      nodeSelector: { disk: 'ssd' },
      terminationGracePeriodSeconds: 300,
    });
  });

  it('adds the ServiceMonitor and PrometheusRule only when asked for and their CRDs exist', () => {
    const kinds = (spec: StrataClusterSpec, caps: Capabilities) => render(spec, caps).objects.map((o) => o.kind);
    const metrics = { replicas: 1, metrics: { serviceMonitor: true, prometheusRule: true } };
    expect(kinds(metrics, ALL)).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
    expect(kinds(metrics, NONE)).not.toContain('ServiceMonitor');
    expect(kinds(metrics, { serviceMonitor: true, prometheusRule: false })).not.toContain('PrometheusRule');
    expect(kinds({ replicas: 1 }, ALL)).not.toContain('ServiceMonitor');
    const sm = find<KubeObject>(render(metrics, ALL).objects, 'ServiceMonitor');
    expect(sm.spec).toEqual({
      selector: { matchLabels: { 'strata.dev/cluster': 'events', 'app.kubernetes.io/component': 'broker', 'strata.dev/service': 'brokers' } },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
    });
  });

  it('with spec.rack, starts each pod with rack-init, which writes the config the broker then reads', () => {
    const plain = find<V1StatefulSet>(render({ replicas: 1 }).objects, 'StatefulSet').spec!.template.spec!;
    expect(plain.initContainers).toBeUndefined();
    expect(plain.containers[0]!.args).toEqual(['broker', '--config', '/etc/strata/server.properties']);
    const pod = find<V1StatefulSet>(render({ replicas: 1, rack: { topologyKey: 'topology.kubernetes.io/zone' } }).objects, 'StatefulSet').spec!.template.spec!;
    const init = pod.initContainers![0]!;
    expect(init.name).toBe('rack-init');
    expect(init.image).toBe(pod.containers[0]!.image);
    expect(init.args).toEqual(['rack-init', '--annotations', '/etc/strata-podinfo/annotations', '--config', '/etc/strata/server.properties', '--out', '/var/run/strata/server.properties', '--timeout-seconds', '600']);
    expect(pod.containers[0]!.args).toEqual(['broker', '--config', '/var/run/strata/server.properties']);
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: 'rack-config', mountPath: '/var/run/strata', readOnly: true });
    expect(init.volumeMounts).toContainEqual({ name: 'rack-config', mountPath: '/var/run/strata' });
    expect(pod.volumes).toContainEqual({ name: 'podinfo', downwardAPI: { items: [{ path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] } });
    expect(pod.volumes).toContainEqual({ name: 'rack-config', emptyDir: {} });
    // Brokers still get no API credentials: the operator reads the node, not the pod.
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('refuses what it cannot render with the field at fault', () => {
    expect(() => desiredClusterObjects(storedCluster({ replicas: 1 }, 'x'.repeat(41)), SETTINGS, NONE)).toThrow(/^metadata\.name: /);
    const noUid = storedCluster({ replicas: 1 });
    delete noUid.metadata.uid;
    expect(() => desiredClusterObjects(noUid, SETTINGS, NONE)).toThrow(InvalidSpecError);
  });
});

describe('desiredClusterObjects with a held-back scale-down', () => {
  it('gives the StatefulSet the replicas the controller holds it at', () => {
    const s = find<V1StatefulSet>(desiredClusterObjects(storedCluster({ replicas: 1 }), SETTINGS, NONE, { replicas: 3 }).objects, 'StatefulSet');
    expect(s.spec!.replicas).toBe(3);
  });
});

describe('desiredClusterObjects for an existing StatefulSet', () => {
  it('keeps the stored volume claim templates, which Kubernetes does not let change', () => {
    const stored = find<V1StatefulSet>(render({ replicas: 1, storage: { size: '1Gi' } }).objects, 'StatefulSet').spec!.volumeClaimTemplates!;
    const asRead = stored.map((t) => ({ ...t, spec: { ...t.spec!, volumeMode: 'Filesystem' }, status: { phase: 'Pending' } }));
    const s = find<V1StatefulSet>(desiredClusterObjects(storedCluster({ replicas: 1, storage: { size: '5Gi', storageClassName: 'other' } }), SETTINGS, NONE, { existingClaimTemplates: asRead }).objects, 'StatefulSet');
    expect(s.spec!.volumeClaimTemplates).toEqual(stored.map((t) => ({ ...t, spec: { ...t.spec!, volumeMode: 'Filesystem' } })));
  });
});
