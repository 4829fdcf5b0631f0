// The pod contract, for real: three broker processes started with exactly the arguments,
// environment and files the operator renders for pods 0, 1 and 2 of a tiered StrataCluster
// (test/operator/local-pod.ts stands in for the kubelet and lists each substitution it makes),
// against a real S3 server. Each must start, pass its readiness and liveness probes, report the
// node.id of its ordinal at its advertised address, and take records from kcat and give them back.
// `bin/strata` stands in for the image's entrypoint; rebuild dist/ first
// (npx tsc -p tsconfig.build.json && node hack/bundle.mjs).
import type { V1ConfigMap, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterIdFor } from '../../operator/reconcile/broker-config.js';
import { desiredClusterObjects } from '../../operator/reconcile/cluster.js';
import { SETTINGS, storedCluster } from '../../operator/reconcile/test-fixtures.js';
import { REPO_ROOT, runProcess } from '../broker/harness.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, S3Server, s3ServerProblem } from '../tiered/s3-server.js';
import { localPod, type LocalPod } from './local-pod.js';

const STRATA = path.join(REPO_ROOT, 'bin/strata');
const PODS = 3;
const READY_TIMEOUT_MS = 60_000;

interface Running {
  pod: LocalPod;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
}

let s3: S3Server;
let root: string;
let statefulSet: V1StatefulSet;
let rendered: ReturnType<typeof desiredClusterObjects>;
const running: Running[] = [];
const cluster = () =>
  storedCluster({
    replicas: PODS,
    config: { 'num.partitions': '2', 'log.segment.bytes': '1048576' },
    tieredStorage: { bucket: 'strata-test', endpoint: s3.endpoint, pathStyle: true, prefix: 'contract', credentialsSecret: { name: 'events-s3' } },
  });

async function waitForProbe(url: string, what: string, proc: Running): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.proc.exitCode !== null) throw new Error(`${proc.pod.name} exited (${proc.proc.exitCode}) before ${what}:\n${proc.output()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${proc.pod.name}: ${what} did not pass within ${READY_TIMEOUT_MS} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  const problem = s3ServerProblem();
  if (problem !== null) throw new Error(problem);
  root = mkdtempSync(path.join(tmpdir(), 'strata-pods-'));
  s3 = await S3Server.start('strata-test');
  rendered = desiredClusterObjects(cluster(), SETTINGS, { serviceMonitor: false, prometheusRule: false });
  statefulSet = rendered.objects.find((o) => o.kind === 'StatefulSet') as unknown as V1StatefulSet;
  const configMaps = rendered.objects.filter((o) => o.kind === 'ConfigMap') as unknown as V1ConfigMap[];
  // The Secret a user creates next to the cluster.
  const secret: V1Secret = {
    metadata: { name: 'events-s3', namespace: 'streaming' },
    data: { AWS_ACCESS_KEY_ID: Buffer.from(S3_ACCESS_KEY).toString('base64'), AWS_SECRET_ACCESS_KEY: Buffer.from(S3_SECRET_KEY).toString('base64') },
  };
  for (let ordinal = 0; ordinal < PODS; ordinal++) {
    const pod = await localPod({ statefulSet, configMaps, secrets: [secret], clusterDomain: SETTINGS.clusterDomain }, ordinal, root);
    // Only the pod's environment, as in a container (plus PATH for the node binary).
    const proc = spawn(process.execPath, [STRATA, ...pod.args], { cwd: path.join(root, pod.name), env: { PATH: process.env.PATH ?? '', ...pod.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
    proc.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
    const exited = new Promise<number | string>((resolve) => proc.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
    running.push({ pod, proc, output: () => output, exited });
  }
});

afterAll(async () => {
  for (const r of running) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    await r.exited;
  }
  await s3?.stop();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('three brokers started as the operator renders pods 0, 1 and 2', () => {
  it('substitutes only paths and the pods\' own addresses', () => {
    for (const r of running) {
      const dns = `${r.pod.name}.events-brokers.streaming.svc.cluster.local`;
      expect(r.pod.substitutions.map((s) => s.split(':')[0])).toEqual([
        'server.properties listeners',
        'server.properties log.dirs',
        'server.properties strata.http.listener',
        'env STRATA_CONFIG_ADVERTISED_LISTENERS',
        'arg 2',
      ]);
      expect(r.pod.substitutions).toContain(`env STRATA_CONFIG_ADVERTISED_LISTENERS: PLAINTEXT://${dns}:9092 -> PLAINTEXT://127.0.0.1:${r.pod.ports['kafka-0']}`);
      // Everything else in the environment is as rendered and resolved.
      expect(r.pod.env).toMatchObject({
        STRATA_POD_NAME: r.pod.name,
        STRATA_POD_NAMESPACE: 'streaming',
        STRATA_CONFIG_NODE_ID: r.pod.name.slice(-1),
        AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      });
      expect(Object.keys(r.pod.env).sort()).toEqual(
        ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'STRATA_CONFIG_ADVERTISED_LISTENERS', 'STRATA_CONFIG_NODE_ID', 'STRATA_POD_NAME', 'STRATA_POD_NAMESPACE'].sort(),
      );
    }
  });

  it('each becomes ready and live on the probes the pod spec declares', async () => {
    for (const r of running) {
      const { readinessProbe, livenessProbe, startupProbe } = r.pod.container;
      const url = (probe: typeof readinessProbe) => `http://127.0.0.1:${r.pod.ports[String(probe!.httpGet!.port)]}${probe!.httpGet!.path}`;
      await waitForProbe(url(startupProbe), 'the start-up probe', r);
      await waitForProbe(url(livenessProbe), 'the liveness probe', r);
      await waitForProbe(url(readinessProbe), 'the readiness probe', r);
    }
  });

  it('each reports the node.id of its ordinal at its advertised address', async () => {
    for (const [ordinal, r] of running.entries()) {
      const bootstrap = `127.0.0.1:${r.pod.ports['kafka-0']}`;
      const md = await runProcess('kcat', ['-L', '-J', '-b', bootstrap, '-m', '10'], { timeoutMs: 20_000 });
      expect(md.code, md.stderr).toBe(0);
      const brokers = (JSON.parse(md.stdout) as { brokers: { id: number; name: string }[] }).brokers;
      expect(brokers).toEqual([{ id: ordinal, name: bootstrap }]);
    }
  });

  it('each formatted its volume with its node.id and the cluster\'s id, and passed the S3 check with the Secret\'s keys', () => {
    for (const [ordinal, r] of running.entries()) {
      const meta = readFileSync(path.join(r.pod.mounts['/var/lib/strata']!, 'data', 'meta.properties'), 'utf8');
      expect(meta).toContain(`node.id=${ordinal}\n`);
      expect(meta).toContain(`cluster.id=${clusterIdFor('6f1c2e4a-9b3d-4c5e-8f70-1a2b3c4d5e6f')}\n`);
    }
    // A broker with tiered storage on checks the bucket before it serves (write, read back,
    // delete); had the credentials not reached it, it would have stopped at start-up.
    expect(rendered.config.properties).toContain('remote.log.storage.system.enable=true\n');
    for (const r of running) expect(r.output(), r.pod.name).toMatch(/"msg":"object store checked".*strata-test/);
  });

  it('kcat produces to and consumes from each', async () => {
    for (const r of running) {
      const bootstrap = `127.0.0.1:${r.pod.ports['kafka-0']}`;
      const topic = `contract-${r.pod.name}`;
      const values = Array.from({ length: 20 }, (_, i) => `${r.pod.name} record ${i}`);
      const p = await runProcess('kcat', ['-P', '-b', bootstrap, '-t', topic, '-p', '0', '-X', 'acks=all'], { input: `${values.join('\n')}\n`, timeoutMs: 30_000 });
      expect(p.code, p.stderr).toBe(0);
      const c = await runProcess('kcat', ['-C', '-b', bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { timeoutMs: 30_000 });
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout.split('\n').filter((l) => l !== '')).toEqual(values);
    }
  });

  it('each stops cleanly on SIGTERM, as the kubelet stops a pod', async () => {
    for (const r of running) {
      r.proc.kill('SIGTERM');
      expect(await r.exited, r.output()).toBe(0);
    }
  });
});
