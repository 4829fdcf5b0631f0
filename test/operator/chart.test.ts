// The operator's Helm chart with the real helm (hack/peers/k8s.sh builds it), no API server: lint
// passes with the default values and with everything on, a typo in the values fails naming the key,
// the rendered objects are what the operator needs (flags of `strata operator`, probes, a locked-down
// pod, RBAC for every kind the reconciler writes, scoped to one namespace when asked), the alert
// rules query only series a broker serves, deploy/kustomize/ is what the chart renders, and
// hack/kind-up.sh parses.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { desiredClusterObjects } from '../../operator/reconcile/cluster.js';
import { SETTINGS, storedCluster } from '../../operator/reconcile/test-fixtures.js';
import { CHART_DIR, helmTemplateArgs, manifestDrift, NAMESPACE, writeManifests } from '../../hack/gen-manifests.js';
import { REPO_ROOT, runProcess } from '../broker/harness.js';
import { seriesProblems } from './metric-names.js';
import { k8sPeers, KUBE_VERSION } from './peers.js';

const helm = k8sPeers().helm;
const ALL_ON = 'serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboards.enabled=true';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

async function lint(...args: string[]) {
  return runProcess(helm, ['lint', CHART_DIR, '--strict', '--kube-version', KUBE_VERSION, ...args], { timeoutMs: 60_000 });
}

async function template(...args: string[]): Promise<Obj[]> {
  const r = await runProcess(helm, helmTemplateArgs(args), { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function one(objs: Obj[], kind: string, name?: string): Obj {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found.map((o) => o.metadata.name), kind).toHaveLength(1);
  return found[0]!;
}

/** Whether `rules` allow `verb` on `resource` of `group`. */
function allows(rules: Rule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

beforeAll(() => {
  if (!existsSync(helm)) throw new Error(`${helm} is missing (run: bash hack/peers/k8s.sh helm)`);
});

describe('helm lint', () => {
  it('passes with the default values', async () => {
    const r = await lint();
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('passes with the ServiceMonitor, PrometheusRule and dashboards on, and with one watched namespace', async () => {
    for (const set of [ALL_ON, `${ALL_ON},watchNamespace=apps,leaseNamespace=ops,replicaCount=2`]) {
      const r = await lint('--set', set);
      expect(r.code, `${set}\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  const refused: [string, string, RegExp][] = [
    ['a misspelt top-level key', 'replicaCont=2', /at '': additional properties 'replicaCont' not allowed/],
    ['a misspelt nested key', 'serviceMonitor.enable=true', /at '\/serviceMonitor': additional properties 'enable' not allowed/],
    ['a number where a boolean belongs', 'prometheusRule.enabled=1', /at '\/prometheusRule\/enabled': got number, want boolean/],
    ['a bad namespace name', 'watchNamespace=Apps_1', /at '\/watchNamespace'/],
    ['an unknown pull policy', 'image.pullPolicy=Sometimes', /at '\/image\/pullPolicy'/],
  ];
  for (const [what, set, message] of refused) {
    it(`fails on ${what}, naming the key`, async () => {
      const r = await lint('--set', set);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(message);
    });
  }
});

describe('helm template', () => {
  let defaults: Obj[];
  beforeAll(async () => {
    defaults = await template();
  });

  it('renders the operator\'s objects, and no monitoring objects by default', () => {
    expect(defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ServiceAccount/strata-operator',
        'ClusterRole/strata-operator',
        'ClusterRoleBinding/strata-operator',
        'ClusterRole/strata-operator-discovery',
        'ClusterRoleBinding/strata-operator-discovery',
        'Role/strata-operator-leader-election',
        'RoleBinding/strata-operator-leader-election',
        'Service/strata-operator-metrics',
        'Deployment/strata-operator',
      ].sort(),
    );
    for (const o of defaults) if (!o.kind.startsWith('Cluster')) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NAMESPACE);
  });

  it('runs `strata operator` with its flags, probes on /healthz and /readyz, as uid 1000 on a read-only root', () => {
    const d = one(defaults, 'Deployment') as unknown as { spec: { replicas: number; template: { spec: any } } };
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(d.spec.replicas).toBe(1);
    expect(c.command).toBeUndefined(); // the image's entrypoint, strata
    expect(c.args).toEqual(['operator', '--http-listener=:8080', '--lease-namespace=$(POD_NAMESPACE)', '--workers=2', '--cluster-domain=cluster.local', '--image=ghcr.io/strata/strata:0.1.0']);
    expect(c.env.map((e: { name: string }) => e.name)).toContain('POD_NAMESPACE');
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http-metrics' });
    expect(c.ports).toEqual([{ name: 'http-metrics', containerPort: 8080, protocol: 'TCP' }]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(pod.serviceAccountName).toBe('strata-operator');
    const svc = one(defaults, 'Service') as unknown as { spec: { selector: Record<string, string>; ports: unknown[] } };
    expect((d as any).spec.selector.matchLabels).toEqual(svc.spec.selector);
  });

  it('grants every kind the cluster reconciler writes, pod deletes for rolls, status, Events, Leases and CRD reads', async () => {
    const rules = (one(defaults, 'ClusterRole', 'strata-operator') as unknown as { rules: Rule[] }).rules;
    const { objects } = desiredClusterObjects(storedCluster({ replicas: 3, metrics: { serviceMonitor: true, prometheusRule: true } }), SETTINGS, { serviceMonitor: true, prometheusRule: true });
    const kinds = objects.map((o) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['ServiceAccount', 'ConfigMap', 'Service', 'StatefulSet', 'PodDisruptionBudget', 'ServiceMonitor', 'PrometheusRule']));
    for (const o of objects) {
      const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
      // Every kind it renders has a regular plural: lower case plus s.
      for (const verb of ['get', 'create', 'patch', 'delete']) expect(allows(rules, group, `${o.kind.toLowerCase()}s`, verb), `${verb} ${o.kind}`).toBe(true);
    }
    expect(allows(rules, 'monitoring.coreos.com', 'podmonitors', 'patch')).toBe(true);
    expect(allows(rules, '', 'pods', 'delete')).toBe(true);
    expect(allows(rules, '', 'pods', 'create')).toBe(false);
    expect(allows(rules, '', 'persistentvolumeclaims', 'list')).toBe(true);
    expect(allows(rules, '', 'persistentvolumeclaims', 'delete')).toBe(false);
    expect(allows(rules, '', 'secrets', 'get')).toBe(false);
    for (const r of ['strataclusters', 'stratatopics']) {
      for (const verb of ['get', 'list', 'watch']) expect(allows(rules, 'strata.dev', r, verb), `${verb} ${r}`).toBe(true);
      expect(allows(rules, 'strata.dev', `${r}/status`, 'update'), `${r}/status`).toBe(true);
    }
    expect(allows(rules, '', 'events', 'create') && allows(rules, 'events.k8s.io', 'events', 'create')).toBe(true);
    const lease = one(defaults, 'Role', 'strata-operator-leader-election') as unknown as { metadata: { namespace: string }; rules: Rule[] };
    expect(lease.metadata.namespace).toBe(NAMESPACE);
    for (const verb of ['get', 'create', 'update']) expect(allows(lease.rules, 'coordination.k8s.io', 'leases', verb)).toBe(true);
    expect(allows(rules, 'coordination.k8s.io', 'leases', 'update')).toBe(false);
    const discovery = (one(defaults, 'ClusterRole', 'strata-operator-discovery') as unknown as { rules: Rule[] }).rules;
    // Nodes only to read one by name: the rack label of a broker's node (spec.rack).
    expect(discovery).toEqual([
      { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
    ]);
    expect(allows(rules, '', 'pods', 'patch')).toBe(true);
    for (const b of ['strata-operator', 'strata-operator-discovery']) {
      expect((one(defaults, 'ClusterRoleBinding', b) as any).subjects).toEqual([{ kind: 'ServiceAccount', name: 'strata-operator', namespace: NAMESPACE }]);
    }
  });

  it('grants Roles in the one watched namespace, and the Lease in its own, when watchNamespace is set', async () => {
    const objs = await template('--set', 'watchNamespace=apps,leaseNamespace=ops');
    const cluster = (await template()).filter((o) => o.kind === 'ClusterRole' && o.metadata.name === 'strata-operator');
    expect(cluster).toHaveLength(1);
    expect(objs.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).toEqual(['strata-operator-discovery']);
    const role = one(objs, 'Role', 'strata-operator') as unknown as { metadata: { namespace: string }; rules: Rule[] };
    expect(role.metadata.namespace).toBe('apps');
    expect(role.rules).toEqual((cluster[0] as unknown as { rules: Rule[] }).rules);
    expect(one(objs, 'RoleBinding', 'strata-operator').metadata.namespace).toBe('apps');
    expect(one(objs, 'Role', 'strata-operator-leader-election').metadata.namespace).toBe('ops');
    const args = (one(objs, 'Deployment') as any).spec.template.spec.containers[0].args as string[];
    expect(args).toContain('--namespace=apps');
    expect(args).toContain('--lease-namespace=ops');
  });

  it('renders the ServiceMonitor, the PrometheusRule and the dashboards when asked', async () => {
    const objs = await template('--set', ALL_ON);
    const sm = one(objs, 'ServiceMonitor') as any;
    expect(sm.spec.endpoints).toEqual([{ port: 'http-metrics', path: '/metrics', interval: '30s' }]);
    expect(sm.spec.selector.matchLabels).toEqual((one(objs, 'Service') as any).spec.selector);
    const groups = (one(objs, 'PrometheusRule') as any).spec.groups as { name: string; rules: { alert: string; expr: string }[] }[];
    expect(groups.map((g) => g.name)).toEqual(['strata-operator', 'strata-brokers']);
    expect(groups[0]!.rules[0]!.expr).toBe(`up{job="strata-operator-metrics",namespace="${NAMESPACE}"} == 0`);
    expect(groups[1]!.rules.map((r) => r.alert)).toEqual(['StrataBrokerDown', 'StrataLogDirectoryOffline', 'StrataConsumerGroupLag', 'StrataTieredUploadLagging']);
    // Prometheus templates in the annotations reach the rule as written, not eaten by Helm.
    expect(JSON.stringify(groups)).toContain('{{ $labels.pod }}');
    const dashboards = objs.filter((o) => o.kind === 'ConfigMap');
    expect(dashboards.map((o) => o.metadata.name)).toEqual(['strata-operator-strata-brokers', 'strata-operator-strata-consumer-lag']);
    for (const cm of dashboards) {
      expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
      const [file, json] = Object.entries(cm.data as Record<string, string>)[0]!;
      expect(JSON.parse(json)).toEqual(JSON.parse(readFileSync(path.join(CHART_DIR, 'dashboards', file), 'utf8')));
    }
    const off = await template('--set', `${ALL_ON},prometheusRule.brokerRules.enabled=false`);
    expect(((one(off, 'PrometheusRule') as any).spec.groups as { name: string }[]).map((g) => g.name)).toEqual(['strata-operator']);
  });

  it('has broker alert rules that query only series and labels a broker serves', async () => {
    const objs = await template('--set', ALL_ON);
    const groups = (one(objs, 'PrometheusRule') as any).spec.groups as { name: string; rules: { alert: string; expr: string }[] }[];
    for (const r of groups.find((g) => g.name === 'strata-brokers')!.rules) expect(seriesProblems(r.expr), r.alert).toEqual([]);
  });
});

describe('deploy/kustomize/', () => {
  it('is what the chart renders (regenerate with npx tsx hack/gen-manifests.ts)', () => {
    expect(manifestDrift(undefined, helm)).toEqual([]);
  });

  it('drift check reports a hand edit, a missing file and a stale one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-manifests-'));
    writeManifests(dir, helm);
    expect(manifestDrift(dir, helm)).toEqual([]);
    const f = path.join(dir, 'operator.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('replicas: 1\n', 'replicas: 2\n'));
    rmSync(path.join(dir, 'namespace.yaml'));
    writeFileSync(path.join(dir, 'extra.yaml'), 'kind: ConfigMap\n');
    expect(manifestDrift(dir, helm).sort()).toEqual([`${f} differs from the chart`, `${path.join(dir, 'namespace.yaml')} is missing`, `${path.join(dir, 'extra.yaml')} is not generated from the chart`].sort());
    rmSync(dir, { recursive: true });
  });
});

describe('hack/kind-up.sh', () => {
  it('parses, and answers --help without Docker', async () => {
    const script = path.join(REPO_ROOT, 'hack', 'kind-up.sh');
    const n = await runProcess('bash', ['-n', script]);
    expect(n.code, n.stderr).toBe(0);
    const h = await runProcess('bash', [script, '--help']);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/^Usage: hack\/kind-up\.sh/);
    const bad = await runProcess('bash', [script, '--nope']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown argument '--nope'/);
  });
});
