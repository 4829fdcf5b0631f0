// The install paths against a real kube-apiserver and etcd (control-plane.ts; kubectl and helm from
// hack/peers/k8s.sh, the Prometheus Operator's CRDs from hack/peers/prometheus-crds.sh): what
// `helm template` renders passes the API server's validation (server-side dry run) with the default
// values, with the ServiceMonitor, PrometheusRule and dashboards on, and with one watched
// namespace; `kubectl apply -k deploy/kustomize` installs the CRDs and the operator for real; and
// the examples pass a server-side dry run once the CRDs are in; and `helm install` of the chart
// with everything on succeeds against the server's real version, then uninstalls cleanly.
import * as k8s from '@kubernetes/client-node';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmTemplateArgs, MANIFESTS_DIR, NAMESPACE } from '../../hack/gen-manifests.js';
import { REPO_ROOT, runProcess } from '../broker/harness.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { apiServerProblem, k8sPeers } from './peers.js';

const peers = k8sPeers();
let cp: ControlPlane;
let api: k8s.KubernetesObjectApi;

function kubectl(args: string[], input?: string) {
  return runProcess(peers.kubectl, ['--kubeconfig', cp.kubeConfigFile, ...args], { timeoutMs: 120_000, ...(input === undefined ? {} : { input }) });
}

async function helmTemplate(set?: string): Promise<string> {
  const r = await runProcess(peers.helm, helmTemplateArgs(set === undefined ? [] : ['--set', set]), { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return r.stdout;
}

/** `kubectl apply --dry-run=server` of `yaml`: the objects it reports, as "kind/name". */
async function dryRun(yaml: string, ...args: string[]): Promise<string[]> {
  const r = await kubectl(['apply', '--server-side', '--dry-run=server', '-o', 'name', ...args, '-f', '-'], yaml);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const ESTABLISHED_TIMEOUT_MS = 60_000;

/** Waits for the CRDs' Established condition. Polled through the API, not kubectl wait: that one
 *  fails outright while a fresh CRD has no status.conditions yet. */
async function established(...crds: string[]) {
  const deadline = Date.now() + ESTABLISHED_TIMEOUT_MS;
  for (const name of crds) {
    for (;;) {
      const crd = (await api.read({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } })) as k8s.V1CustomResourceDefinition;
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`crd/${name} not Established within ${ESTABLISHED_TIMEOUT_MS} ms: ${JSON.stringify(crd.status)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

beforeAll(async () => {
  const problem = apiServerProblem();
  if (problem !== null) throw new Error(problem);
  for (const bin of [peers.kubectl, peers.helm]) if (!existsSync(bin)) throw new Error(`${bin} is missing (run: bash hack/peers/k8s.sh)`);
  if (!existsSync(peers.prometheusOperatorCrds)) throw new Error(`${peers.prometheusOperatorCrds} is missing (run: bash hack/peers/prometheus-crds.sh)`);
  cp = await startControlPlane();
  api = k8s.KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  // The Prometheus Operator's own CRDs, so its kinds are validated by their real schemas. Some are
  // too large for client-side apply's last-applied annotation.
  const r = await kubectl(['apply', '--server-side', '-f', peers.prometheusOperatorCrds]);
  if (r.code !== 0) throw new Error(`applying the Prometheus Operator CRDs failed: ${r.stderr}`);
  await established('servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com');
  for (const name of [NAMESPACE, 'apps']) await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
});

afterAll(async () => {
  await cp?.stop();
});

describe('helm template | kubectl apply --dry-run=server', () => {
  it('accepts the default install', async () => {
    expect((await dryRun(await helmTemplate())).sort()).toEqual(
      [
        'serviceaccount/strata-operator',
        'clusterrole.rbac.authorization.k8s.io/strata-operator',
        'clusterrole.rbac.authorization.k8s.io/strata-operator-discovery',
        'clusterrolebinding.rbac.authorization.k8s.io/strata-operator',
        'clusterrolebinding.rbac.authorization.k8s.io/strata-operator-discovery',
        'role.rbac.authorization.k8s.io/strata-operator-leader-election',
        'rolebinding.rbac.authorization.k8s.io/strata-operator-leader-election',
        'service/strata-operator-metrics',
        'deployment.apps/strata-operator',
      ].sort(),
    );
  });

  it('accepts the ServiceMonitor, the PrometheusRule and the dashboards, validated by the Prometheus Operator\'s CRDs', async () => {
    const names = await dryRun(await helmTemplate('serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboards.enabled=true'));
    expect(names).toEqual(
      expect.arrayContaining([
        'servicemonitor.monitoring.coreos.com/strata-operator',
        'prometheusrule.monitoring.coreos.com/strata-operator',
        'configmap/strata-operator-strata-brokers',
        'configmap/strata-operator-strata-consumer-lag',
      ]),
    );
  });

  it('accepts the install that watches one namespace', async () => {
    const names = await dryRun(await helmTemplate('watchNamespace=apps,serviceMonitor.enabled=true'));
    expect(names).toEqual(expect.arrayContaining(['role.rbac.authorization.k8s.io/strata-operator', 'rolebinding.rbac.authorization.k8s.io/strata-operator']));
    expect(names).not.toContain('clusterrole.rbac.authorization.k8s.io/strata-operator');
  });

  it('refuses what the API server would refuse (the dry run validates)', async () => {
    const yaml = (await helmTemplate('serviceMonitor.enabled=true')).replace('interval: 30s', 'interval: thirty');
    const r = await kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], yaml);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ServiceMonitor.*spec\.endpoints\[0\]\.interval/s);
  });
});

describe('kubectl apply -k deploy/kustomize', () => {
  beforeAll(async () => {
    // The Namespace exists already (the dry runs needed it); server-side apply takes it over.
    const r = await kubectl(['apply', '--server-side', '-k', MANIFESTS_DIR]);
    if (r.code !== 0) throw new Error(`kubectl apply -k failed: ${r.stderr}\n${r.stdout}`);
    await established('strataclusters.strata.dev', 'stratatopics.strata.dev');
  }, 180_000);

  it('installs the CRDs, the RBAC and the operator Deployment', async () => {
    const d = (await api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'strata-operator', namespace: NAMESPACE } })) as k8s.V1Deployment;
    expect(d.spec?.template.spec?.containers[0]?.args?.[0]).toBe('operator');
    expect(d.spec?.template.spec?.serviceAccountName).toBe('strata-operator');
    const ns = (await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } })) as k8s.V1Namespace;
    expect(ns.metadata?.labels?.['app.kubernetes.io/part-of']).toBe('strata');
    for (const [kind, name, namespace] of [
      ['ServiceAccount', 'strata-operator', NAMESPACE],
      ['Service', 'strata-operator-metrics', NAMESPACE],
      ['Role', 'strata-operator-leader-election', NAMESPACE],
      ['ClusterRole', 'strata-operator', undefined],
      ['ClusterRoleBinding', 'strata-operator', undefined],
    ] as const) {
      const apiVersion = kind === 'ServiceAccount' || kind === 'Service' ? 'v1' : 'rbac.authorization.k8s.io/v1';
      const o = await api.read({ apiVersion, kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }) } });
      expect(o.metadata?.name, kind).toBe(name);
    }
  });

  it('gives the operator\'s ServiceAccount the rights it needs, and no more (kubectl auth can-i)', async () => {
    const as = `system:serviceaccount:${NAMESPACE}:strata-operator`;
    const can = async (...args: string[]) => (await kubectl(['auth', 'can-i', '--as', as, ...args])).stdout.trim();
    expect(await can('patch', 'statefulsets.apps', '-n', 'apps')).toBe('yes');
    expect(await can('delete', 'pods', '-n', 'apps')).toBe('yes');
    expect(await can('patch', 'pods', '-n', 'apps')).toBe('yes');
    expect(await can('get', 'nodes')).toBe('yes');
    expect(await can('list', 'nodes')).toBe('no');
    expect(await can('update', 'strataclusters.strata.dev', '--subresource=status', '-n', 'apps')).toBe('yes');
    expect(await can('create', 'servicemonitors.monitoring.coreos.com', '-n', 'apps')).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', '-n', NAMESPACE)).toBe('yes');
    expect(await can('list', 'customresourcedefinitions.apiextensions.k8s.io')).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', '-n', 'apps')).toBe('no');
    expect(await can('get', 'secrets', '-n', 'apps')).toBe('no');
    expect(await can('create', 'pods', '-n', 'apps')).toBe('no');
  });

  it('installs the same CRDs as crds/ (a second apply of crds/ changes nothing)', async () => {
    const r = await kubectl(['diff', '--server-side', '-f', path.join(REPO_ROOT, 'crds')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('examples/', () => {
  const files = readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort();

  it('holds the minimal and tiered clusters and a topic', () => {
    expect(files).toEqual(['minimal-cluster.yaml', 'tiered-cluster.yaml', 'topic.yaml']);
  });

  it('passes a server-side dry run with the CRDs installed', async () => {
    const objects: string[] = [];
    for (const f of files) {
      const r = await kubectl(['apply', '--dry-run=server', '-n', 'apps', '-o', 'name', '-f', path.join(REPO_ROOT, 'examples', f)]);
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
      objects.push(...r.stdout.split('\n').filter((l) => l !== ''));
    }
    expect(objects).toEqual(['stratacluster.strata.dev/events', 'secret/archive-s3', 'stratacluster.strata.dev/archive', 'stratatopic.strata.dev/orders']);
  });
});

describe('helm install', () => {
  it('installs the chart with everything on (kubeVersion checked against the server\'s /version), prints the notes, and uninstalls', async () => {
    const helm = (args: string[]) => runProcess(peers.helm, ['--kubeconfig', cp.kubeConfigFile, ...args], { timeoutMs: 120_000 });
    const set = 'serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboards.enabled=true';
    const r = await helm(['install', 'strata', path.join(REPO_ROOT, 'charts', 'strata-operator'), '--namespace', 'helm-test', '--create-namespace', '--set', set]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/STATUS: deployed/);
    expect(r.stdout).toContain('kubectl -n helm-test rollout status deployment/strata-strata-operator');
    for (const [apiVersion, kind, name] of [
      ['apps/v1', 'Deployment', 'strata-strata-operator'],
      ['monitoring.coreos.com/v1', 'ServiceMonitor', 'strata-strata-operator'],
      ['monitoring.coreos.com/v1', 'PrometheusRule', 'strata-strata-operator'],
      ['v1', 'ConfigMap', 'strata-strata-operator-strata-consumer-lag'],
    ] as const) {
      const o = await api.read({ apiVersion, kind, metadata: { name, namespace: 'helm-test' } });
      expect(o.metadata?.labels?.['app.kubernetes.io/instance'], kind).toBe('strata');
    }
    // A Kubernetes older than the chart's kubeVersion is refused (helm install takes the version from
    // the server; template takes it as a flag).
    const old = await helm(['template', 'old', path.join(REPO_ROOT, 'charts', 'strata-operator'), '--kube-version', '1.27.0']);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/chart requires kubeVersion: >=1\.28\.0-0 which is incompatible with Kubernetes v1\.27\.0/);
    const u = await helm(['uninstall', 'strata', '--namespace', 'helm-test', '--wait']);
    expect(u.code, u.stderr).toBe(0);
    await expect(api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'strata-strata-operator', namespace: 'helm-test' } })).rejects.toThrow(/404|not found/i);
    // Helm never deletes what it installed from crds/.
    await established('strataclusters.strata.dev');
  });
});
