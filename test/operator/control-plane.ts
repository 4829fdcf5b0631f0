// A real Kubernetes control plane for the operator's integration tests: etcd and kube-apiserver
// (built by hack/peers/k8s.sh) on 127.0.0.1, free ports, a temporary directory, a static admin
// token; stopped, and its directory removed, by stop(). With `nodes`, kube-controller-manager
// (StatefulSets, garbage collection, volume binding), kube-scheduler and kwok (fake nodes, so pods
// become Running without a kubelet) run too. The ServiceAccount admission plugin is off, as in
// envtest: pods name their service account and no token is mounted.
import * as k8s from '@kubernetes/client-node';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, runProcess } from '../broker/harness.js';
import { freePort } from './local-pod.js';
import { k8sPeers } from './peers.js';

const START_TIMEOUT_MS = 120_000;
/** kwok manages the nodes that carry this annotation (with the value "fake"). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

/** A Node object kwok keeps Ready and runs pods on. */
export function fakeNode(name: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' }, labels: { 'kubernetes.io/hostname': name, type: 'kwok', ...labels } },
    spec: {},
  };
}

export interface ControlPlane {
  readonly server: string;
  readonly token: string;
  readonly kubeConfig: k8s.KubeConfig;
  /** Path of a kubeconfig file for kubectl and helm. */
  readonly kubeConfigFile: string;
  readonly dir: string;
  logs(): string;
  stop(): Promise<void>;
}

interface Proc {
  name: string;
  proc: ChildProcess;
  out: string;
  exited: Promise<unknown>;
}

/** Every process started here and still running: killed if the test process exits without
 *  stop() (a test run that is interrupted must not leave a control plane behind). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function run(name: string, bin: string, args: string[]): Proc {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const p: Proc = { name, proc, out: '', exited: new Promise((r) => proc.once('exit', r)) };
  const keep = (c: Buffer) => (p.out = (p.out + c.toString()).slice(-30_000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return p;
}

/** GET path with the token, ignoring the self-signed serving certificate; resolves with the status. */
function get(server: string, token: string, p: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${server}${p}`, { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function stopProc(p: Proc): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill('SIGTERM');
  const kill = setTimeout(() => p.proc.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(kill);
}

export async function startControlPlane(opts: { nodes?: boolean } = {}): Promise<ControlPlane> {
  const bins = k8sPeers();
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-k8s-'));
  const procs: Proc[] = [];
  const logs = () => procs.map((p) => `--- ${p.name} (exit ${p.proc.exitCode ?? p.proc.signalCode ?? 'running'})\n${p.out}`).join('\n');
  const stop = async () => {
    for (const p of [...procs].reverse()) await stopProc(p);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    procs.push(
      run('etcd', bins.etcd, [
        '--name=default',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        // A test cluster's data is thrown away; fsync only slows the shared machine down.
        '--unsafe-no-fsync',
      ]),
    );
    const token = randomBytes(16).toString('hex');
    writeFileSync(path.join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path.join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path.join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    mkdirSync(path.join(dir, 'certs'));
    procs.push(
      run('kube-apiserver', bins.kubeApiserver, [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        `--cert-dir=${path.join(dir, 'certs')}`,
        `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--disable-admission-plugins=ServiceAccount',
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      ]),
    );
    const server = `https://127.0.0.1:${securePort}`;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while ((await get(server, token, '/readyz')) !== 200) {
      for (const p of procs) if (p.proc.exitCode !== null) throw new Error(`${p.name} exited ${p.proc.exitCode}:\n${logs()}`);
      if (Date.now() > deadline) throw new Error(`kube-apiserver was not ready within ${START_TIMEOUT_MS} ms:\n${logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'local', server, skipTLSVerify: true }],
      users: [{ name: 'admin', token }],
      contexts: [{ name: 'local', cluster: 'local', user: 'admin' }],
      currentContext: 'local',
    });
    const kubeConfigFile = path.join(dir, 'kubeconfig');
    writeFileSync(kubeConfigFile, kubeConfig.exportConfig());
    if (opts.nodes === true) {
      const auth = [`--kubeconfig=${kubeConfigFile}`, `--authentication-kubeconfig=${kubeConfigFile}`, `--authorization-kubeconfig=${kubeConfigFile}`];
      // --secure-port=0: neither serves its own HTTPS endpoint, so no fixed port is taken.
      procs.push(
        run('kube-controller-manager', bins.kubeControllerManager, [
          ...auth,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          '--secure-port=0',
          `--service-account-private-key-file=${path.join(dir, 'sa.key')}`,
          `--root-ca-file=${path.join(dir, 'certs', 'apiserver.crt')}`,
          '--use-service-account-credentials=false',
        ]),
        run('kube-scheduler', bins.kubeScheduler, [...auth, '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0']),
        run('kwok', bins.kwok, [
          `--kubeconfig=${kubeConfigFile}`,
          ...readdirSync(bins.kwokStages).filter((f) => f.endsWith('.yaml')).map((f) => `--config=${path.join(bins.kwokStages, f)}`),
          `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
          // No port: kwok's own server (port forwarding, exec) is not needed.
          '--node-port=0',
        ]),
      );
    }
    return { server, token, kubeConfig, kubeConfigFile, dir, logs, stop };
  } catch (e) {
    const text = logs();
    await stop();
    throw e instanceof Error && !e.message.includes('---') ? new Error(`${e.message}\n${text}`) : e;
  }
}

/** Applies crds/ with the cached kubectl (server-side) and waits until both are Established. */
export async function installCrds(cp: ControlPlane): Promise<void> {
  const kubectl = k8sPeers().kubectl;
  const r = await runProcess(kubectl, ['--kubeconfig', cp.kubeConfigFile, 'apply', '--server-side', '-f', path.join(REPO_ROOT, 'crds')], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`kubectl apply of crds/ failed: ${r.stderr}`);
  const w = await runProcess(kubectl, ['--kubeconfig', cp.kubeConfigFile, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/strataclusters.strata.dev', 'crd/stratatopics.strata.dev'], { timeoutMs: 90_000 });
  if (w.code !== 0) throw new Error(`CRDs not established: ${w.stderr}`);
}

/** Readies a control plane started with `nodes` for Strata clusters: the CRDs of crds/ applied
 *  and Established, the namespace, and `nodes` kwok nodes each with a static 1Gi volume of
 *  `storageClass` (no provisioner runs here; the volumes stand in for one). */
export async function prepareForClusters(cp: ControlPlane, opts: { namespace: string; storageClass: string; nodes: number }): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  await installCrds(cp);
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: opts.namespace } });
  for (let i = 0; i < opts.nodes; i++) {
    await api.create(fakeNode(`kwok-node-${i}`) as k8s.KubernetesObject);
    await api.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pv-${i}` },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: opts.storageClass, persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/tmp/strata-kwok-pv-${i}` } },
    } as k8s.KubernetesObject);
  }
}
