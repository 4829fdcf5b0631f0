// `strata operator` as real processes against a real control plane (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler, kwok nodes). Nothing here calls reconcile(): the
// operator's informers see the StrataCluster and what it owns, its queue and workers reconcile.
//   - a new cluster gets its StatefulSet and pods on kwok nodes and reaches Ready;
//   - a spec.config change reaches the ConfigMap and rolls the pods;
//   - /metrics counts reconciles and shows the leader gauge, /healthz and /readyz answer;
//   - a second operator waits as a standby (it watches, but does not reconcile); SIGKILL of the
//     leader lets it take the Lease and reconcile the next change; SIGTERM releases the Lease;
//   - a leader whose Lease another candidate took exits 1.
// bin/strata runs dist/: `npm run build` first.
import * as k8s from '@kubernetes/client-node';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, StrataCluster } from '../../operator/api/v1alpha1.js';
import { REPO_ROOT, onJsonLines, runStrata } from '../broker/harness.js';
import { prepareForClusters, startControlPlane, type ControlPlane } from './control-plane.js';
import { nodesProblem } from './peers.js';

const NS = 'streaming';
const LEASE_NS = 'strata-system';
const LEASE = 'strata-operator';
const STORAGE_CLASS = 'kwok-static';
const STRATA = path.join(REPO_ROOT, 'bin/strata');
const WAIT_MS = 150_000;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

let cp: ControlPlane;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let custom: k8s.CustomObjectsApi;
let coordination: k8s.CoordinationV1Api;
let first: OperatorProcess;
let second: OperatorProcess | undefined;

interface OperatorProcess {
  readonly proc: ChildProcess;
  readonly identity: string;
  readonly httpPort: number;
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | string>;
  output(): string;
  get(p: string): Promise<{ status: number; body: string }>;
}

/** Starts `strata operator` and waits for its HTTP endpoint; identity and port come from its logs. */
async function startOperator(name: string): Promise<OperatorProcess> {
  const args = [STRATA, 'operator', '--kubeconfig', cp.kubeConfigFile, '--lease-namespace', LEASE_NS, '--http-listener', '127.0.0.1:0', '--image', 'registry.test/strata:test', '--log-level', 'debug'];
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' } });
  const logs: Record<string, unknown>[] = [];
  let text = '';
  const exited = new Promise<number | string>((resolve) => proc.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  proc.stderr!.on('data', (c: Buffer) => (text = (text + c.toString()).slice(-50_000)));
  const started = new Promise<{ identity: string; port: number }>((resolve, reject) => {
    let identity = '';
    const timer = setTimeout(() => reject(new Error(`operator ${name} did not start within ${START_TIMEOUT_MS} ms:\n${text}`)), START_TIMEOUT_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`operator ${name} exited (${code}) before it started:\n${text}`));
    });
    proc.stdout!.on('data', (chunk: Buffer) => (text = (text + chunk.toString()).slice(-50_000)));
    onJsonLines(proc.stdout!, (entry) => {
      logs.push(entry);
      if (entry.msg === 'operator starting') identity = entry.identity as string;
      if (entry.msg === 'http endpoint listening') {
        clearTimeout(timer);
        resolve({ identity, port: entry.port as number });
      }
    });
  });
  const { identity, port } = await started;
  return {
    proc,
    identity,
    httpPort: port,
    logs,
    exited,
    output: () => text,
    get: async (p) => {
      const res = await fetch(`http://127.0.0.1:${port}${p}`);
      return { status: res.status, body: await res.text() };
    },
  };
}

async function stopOperator(o: OperatorProcess | undefined, signal: NodeJS.Signals): Promise<number | string | undefined> {
  if (o === undefined) return undefined;
  if (o.proc.exitCode === null && o.proc.signalCode === null) o.proc.kill(signal);
  const kill = setTimeout(() => o.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const code = await o.exited;
  clearTimeout(kill);
  return code;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      const ops = [first, second].filter((o) => o !== undefined).map((o) => `--- operator ${o.identity}\n${o.output().slice(-8000)}`);
      throw new Error(`${what} did not happen within ${WAIT_MS} ms\n${ops.join('\n')}\n${cp.logs().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function readCluster(): Promise<StrataCluster> {
  return (await custom.getNamespacedCustomObject({ group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'events' })) as StrataCluster;
}
const cond = (c: StrataCluster, type: string): Condition | undefined => c.status?.conditions?.find((x) => x.type === type);
const settled = (c: StrataCluster) => cond(c, 'Ready')?.status === 'True' && cond(c, 'Reconciling')?.status === 'False' && c.status?.observedGeneration === c.metadata.generation;

async function patchCluster(body: Record<string, unknown>): Promise<void> {
  await custom.patchNamespacedCustomObject(
    { group: 'strata.dev', version: 'v1alpha1', namespace: NS, plural: 'strataclusters', name: 'events', body },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

async function brokerPods(): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector: 'strata.dev/cluster=events,app.kubernetes.io/component=broker' })).items;
}

async function serverProperties(): Promise<string> {
  return (await core.readNamespacedConfigMap({ namespace: NS, name: 'events-config' })).data?.['server.properties'] ?? '';
}

async function leaseHolder(): Promise<string | undefined> {
  try {
    return (await coordination.readNamespacedLease({ namespace: LEASE_NS, name: LEASE })).spec?.holderIdentity;
  } catch (e) {
    if (e instanceof k8s.ApiException && e.code === 404) return undefined;
    throw e;
  }
}

/** The value of one series in Prometheus text, or undefined when it is absent. */
function sample(metrics: string, series: string): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
const reconciles = (metrics: string) => ['success', 'requeue', 'error', 'terminal'].reduce((n, r) => n + (sample(metrics, `strata_operator_reconcile_total{controller="strataclusters",result="${r}"}`) ?? 0), 0);

beforeAll(async () => {
  const problem = nodesProblem();
  if (problem !== null) throw new Error(problem);
  cp = await startControlPlane({ nodes: true });
  core = cp.kubeConfig.makeApiClient(k8s.CoreV1Api);
  apps = cp.kubeConfig.makeApiClient(k8s.AppsV1Api);
  custom = cp.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  coordination = cp.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
  await prepareForClusters(cp, { namespace: NS, storageClass: STORAGE_CLASS, nodes: 3 });
  await core.createNamespace({ body: { metadata: { name: LEASE_NS } } });
  first = await startOperator('first');
});

afterAll(async () => {
  await stopOperator(first, 'SIGKILL');
  await stopOperator(second, 'SIGKILL');
  await cp?.stop();
});

describe('strata operator', () => {
  it('explains its flags, and refuses a bad one naming it', async () => {
    const help = await runStrata(['operator', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--kubeconfig', '--namespace', '--lease-namespace', '--http-listener', '--workers', '--image', '--cluster-domain']) expect(help.stdout).toContain(flag);
    const bad = await runStrata(['operator', '--kubeconfig', cp.kubeConfigFile, '--http-listener', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^strata operator: --http-listener: 'nowhere' is not host:port/);
  });

  it('takes the Lease and brings a new cluster to Ready from its watches alone', async () => {
    await until('the first operator holding the Lease', async () => ((await leaseHolder()) === first.identity ? true : undefined));
    await custom.createNamespacedCustomObject({
      group: 'strata.dev',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'strataclusters',
      body: { apiVersion: 'strata.dev/v1alpha1', kind: 'StrataCluster', metadata: { name: 'events', namespace: NS }, spec: { replicas: 3, storage: { size: '1Gi', storageClassName: STORAGE_CLASS }, config: { 'num.partitions': '1' } } },
    });
    const c = await until('the cluster Ready', async () => {
      const x = await readCluster();
      return settled(x) ? x : undefined;
    });
    expect(c.status).toMatchObject({ observedGeneration: 1, replicas: 3, readyReplicas: 3, bootstrapServers: 'events-bootstrap.streaming.svc.cluster.local:9092' });
    const sts = await apps.readNamespacedStatefulSet({ namespace: NS, name: 'events-broker' });
    expect(sts.spec!.template.spec!.containers[0]!.image).toBe('registry.test/strata:test');
    const pods = await brokerPods();
    expect(pods.map((p) => p.metadata!.name).sort()).toEqual(['events-broker-0', 'events-broker-1', 'events-broker-2']);
    for (const p of pods) {
      expect(p.spec!.nodeName, p.metadata!.name).toMatch(/^kwok-node-\d$/);
      expect(p.status!.phase).toBe('Running');
    }
    expect(await serverProperties()).toMatch(/^num\.partitions=1$/m);
  });

  it('picks up a spec.config change from the watch: the ConfigMap, the config hash, and a roll of every pod', async () => {
    const hashBefore = (await apps.readNamespacedStatefulSet({ namespace: NS, name: 'events-broker' })).spec!.template.metadata!.annotations!['strata.dev/config-hash'];
    const uidsBefore = new Map((await brokerPods()).map((p) => [p.metadata!.name!, p.metadata!.uid!]));
    await patchCluster({ spec: { config: { 'num.partitions': '2' } } });
    await until('the ConfigMap with num.partitions=2', async () => (/^num\.partitions=2$/m.test(await serverProperties()) ? true : undefined));
    const hashAfter = await until('a new config hash on the StatefulSet', async () => {
      const h = (await apps.readNamespacedStatefulSet({ namespace: NS, name: 'events-broker' })).spec!.template.metadata!.annotations!['strata.dev/config-hash'];
      return h !== hashBefore ? h : undefined;
    });
    expect(hashAfter).toMatch(/^[0-9a-f]{16}$/);
    expect(hashAfter).not.toBe(hashBefore);
    await until('a broker pod restarted', async () => ((await brokerPods()).some((p) => uidsBefore.has(p.metadata!.name!) && uidsBefore.get(p.metadata!.name!) !== p.metadata!.uid) ? true : undefined));
    // The roll goes on without anyone calling reconcile: pod events and requeues drive it.
    const c = await until('the roll finished', async () => {
      const x = await readCluster();
      if (!settled(x) || x.metadata.generation !== 2) return undefined;
      const pods = await brokerPods();
      return pods.length === 3 && pods.every((p) => p.metadata!.uid !== uidsBefore.get(p.metadata!.name!) && p.metadata!.annotations?.['strata.dev/config-hash'] === hashAfter) ? x : undefined;
    });
    expect(c.status?.readyReplicas).toBe(3);
  });

  it('with spec.rack, rolls the pods onto rack-init and annotates each with its node\'s zone label', async () => {
    const ZONE = 'topology.kubernetes.io/zone';
    for (let i = 0; i < 3; i++) {
      await core.patchNode({ name: `kwok-node-${i}`, body: { metadata: { labels: { [ZONE]: `zone-${i}` } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    }
    const uidsBefore = new Map((await brokerPods()).map((p) => [p.metadata!.name!, p.metadata!.uid!]));
    await patchCluster({ spec: { rack: { topologyKey: ZONE } } });
    const pods = await until('every pod replaced and annotated with its rack', async () => {
      const x = await readCluster();
      const ps = await brokerPods();
      const done = settled(x) && ps.length === 3 && ps.every((p) => p.metadata!.uid !== uidsBefore.get(p.metadata!.name!) && p.metadata!.annotations?.['strata.dev/rack'] !== undefined);
      return done ? ps : undefined;
    });
    for (const p of pods) {
      expect(p.spec!.initContainers?.map((c) => c.name), p.metadata!.name).toEqual(['rack-init']);
      expect(p.metadata!.annotations!['strata.dev/rack'], p.metadata!.name).toBe(`zone-${/^kwok-node-(\d)$/.exec(p.spec!.nodeName!)![1]}`);
    }
  });

  it('serves /metrics with reconcile counts and the leader gauge, /healthz and /readyz', async () => {
    const m = await first.get('/metrics');
    expect(m.status).toBe(200);
    expect(sample(m.body, 'strata_operator_leader')).toBe(1);
    // kwok's pods run no broker, so the live-config step cannot reach them and each reconcile asks
    // to be called again (as the roll's did): requeues, and a success series that exists.
    expect(sample(m.body, 'strata_operator_reconcile_total{controller="strataclusters",result="requeue"}')).toBeGreaterThan(0);
    expect(sample(m.body, 'strata_operator_reconcile_total{controller="strataclusters",result="success"}')).toBeGreaterThanOrEqual(0);
    // The topic controller runs beside it, with nothing to do here.
    expect(sample(m.body, 'strata_operator_reconcile_total{controller="stratatopics",result="success"}')).toBe(0);
    expect(sample(m.body, 'strata_operator_queue_depth{controller="stratatopics"}')).toBe(0);
    expect(sample(m.body, 'strata_operator_reconcile_duration_seconds_count{controller="strataclusters"}')).toBe(reconciles(m.body));
    expect(sample(m.body, 'strata_operator_queue_depth{controller="strataclusters"}')).toBeGreaterThanOrEqual(0);
    expect(m.body).toMatch(/^process_cpu_user_seconds_total /m);
    expect(m.body).toMatch(/^strata_operator_watch_events_total\{resource="pods",type="update"\} \d+/m);
    // The live-config failure comes back on every requeue: repeats count up one Event per message
    // instead of adding an Event every few seconds.
    const failed = (await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'reason=ConfigLiveFailed' })).items;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.reduce((n, e) => n + (e.count ?? 1), 0)).toBeGreaterThan(failed.length);
    const h = await first.get('/healthz');
    expect(h).toEqual({ status: 200, body: JSON.stringify({ status: 'ok' }) });
    const r = await first.get('/readyz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: 'ready', role: 'leader' });
  });

  it('keeps a second operator as a standby that watches but does not reconcile; SIGKILL of the leader hands it the Lease', async () => {
    second = await startOperator('second');
    const standby = second;
    const ready = await until('the standby synced', async () => {
      const r = await standby.get('/readyz');
      return r.status === 200 ? (JSON.parse(r.body) as { role: string }) : undefined;
    });
    expect(ready.role).toBe('standby');
    // A change the leader reconciles and the standby only sees.
    const leaderBefore = reconciles((await first.get('/metrics')).body);
    await patchCluster({ metadata: { annotations: { 'test.strata.dev/touched': '1' } } });
    await until('the leader reconciling the touched cluster', async () => (reconciles((await first.get('/metrics')).body) > leaderBefore ? true : undefined));
    await until('the standby seeing the change', async () => {
      const m = (await standby.get('/metrics')).body;
      return (sample(m, 'strata_operator_watch_events_total{resource="strataclusters.strata.dev",type="update"}') ?? 0) > 0 ? true : undefined;
    });
    const standbyMetrics = (await standby.get('/metrics')).body;
    expect(reconciles(standbyMetrics)).toBe(0);
    expect(sample(standbyMetrics, 'strata_operator_leader')).toBe(0);
    expect(await leaseHolder()).toBe(first.identity);

    expect(await stopOperator(first, 'SIGKILL')).toBe('SIGKILL');
    await until('the second operator holding the Lease', async () => ((await leaseHolder()) === standby.identity ? true : undefined));
    const lease = await coordination.readNamespacedLease({ namespace: LEASE_NS, name: LEASE });
    expect(lease.spec).toMatchObject({ holderIdentity: standby.identity, leaseDurationSeconds: 15, leaseTransitions: 1 });
    await until('the new leader gauge', async () => (sample((await standby.get('/metrics')).body, 'strata_operator_leader') === 1 ? true : undefined));

    // The new leader reconciles the next change.
    await patchCluster({ spec: { config: { 'num.partitions': '3' } } });
    await until('the ConfigMap with num.partitions=3', async () => (/^num\.partitions=3$/m.test(await serverProperties()) ? true : undefined));
    expect(reconciles((await standby.get('/metrics')).body)).toBeGreaterThan(0);
  });

  it('releases the Lease on SIGTERM and exits 0', async () => {
    const leader = second!;
    expect(await leaseHolder()).toBe(leader.identity);
    expect(await stopOperator(leader, 'SIGTERM')).toBe(0);
    const lease = await coordination.readNamespacedLease({ namespace: LEASE_NS, name: LEASE });
    expect(lease.spec?.holderIdentity).toBeUndefined();
    expect(lease.spec?.leaseDurationSeconds).toBe(1);
    expect(leader.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['signal received, shutting down', 'released the leader lease', 'operator stopped']));
  });

  it('exits 1 when another candidate takes the Lease from under it', async () => {
    const third = await startOperator('third');
    second = third;
    // The released lease is free at once.
    await until('the third operator holding the Lease', async () => ((await leaseHolder()) === third.identity ? true : undefined));
    const lease = await coordination.readNamespacedLease({ namespace: LEASE_NS, name: LEASE });
    await coordination.replaceNamespacedLease({ namespace: LEASE_NS, name: LEASE, body: { metadata: { name: LEASE, namespace: LEASE_NS, resourceVersion: lease.metadata!.resourceVersion! }, spec: { ...lease.spec, holderIdentity: 'intruder' } } });
    const code = await Promise.race([third.exited, new Promise((r) => setTimeout(() => r('still running'), WAIT_MS))]);
    expect(code).toBe(1);
    expect(third.logs.find((l) => l.msg === 'lost the leader lease')).toMatchObject({ reason: 'another candidate holds the lease' });
    expect(await leaseHolder()).toBe('intruder');
  });
});
