// A stand-in for the kubelet, for the pod-contract test: it turns one pod of a rendered StatefulSet
// into a local process's arguments, environment and files, doing what Kubernetes does for a pod
// and nothing more:
//   - the pod's name, namespace and labels (the StatefulSet controller's apps.kubernetes.io/pod-index)
//     feed the downward-API variables; Secret and ConfigMap keys feed secretKeyRef/configMapKeyRef;
//     $(VAR) references in values and args are expanded from the variables defined before them;
//   - ConfigMap volumes become directories holding their keys as files; claims and emptyDirs
//     become empty directories;
// and substitutes only what differs between a pod and a process on this machine, each substitution
// recorded so the test can show which ones happened:
//   - paths: a mount path becomes the directory standing for that volume (in args, env values and
//     the values of mounted .properties files);
//   - network: the pod's own addresses (the empty bind host, the pod's stable DNS name) become
//     127.0.0.1, and each declared container port a free port, because three pods share one
//     network namespace here.
// Anything it does not know (another volume type, an init container, a missing Secret key) throws:
// the kubelet would refuse the pod too, and a rendering that grows must grow this stand-in with it.
import type { V1ConfigMap, V1Container, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const handedOut = new Set<number>();

/** A port free on 127.0.0.1 now, never one this process handed out before (the OS may offer a
 *  just-closed port again, and two pods must not get the same one). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface LocalPod {
  readonly name: string;
  readonly container: V1Container;
  readonly args: string[];
  /** The container's whole environment (only what the pod spec defines). */
  readonly env: Record<string, string>;
  /** Host port standing for each container port, by port name. */
  readonly ports: Record<string, number>;
  /** Local directory standing for each volume mount, by mount path. */
  readonly mounts: Record<string, string>;
  /** Every substitution made, as "where: before -> after". */
  readonly substitutions: string[];
}

export interface PodSources {
  readonly statefulSet: V1StatefulSet;
  readonly configMaps: readonly V1ConfigMap[];
  readonly secrets: readonly V1Secret[];
  /** The DNS domain the pod's stable name ends in. */
  readonly clusterDomain: string;
}

const LOOPBACK = '127.0.0.1';

export async function localPod(src: PodSources, ordinal: number, root: string): Promise<LocalPod> {
  const sts = src.statefulSet;
  const template = sts.spec!.template;
  const podSpec = template.spec!;
  if ((podSpec.initContainers ?? []).length > 0) throw new Error('the stand-in does not run init containers');
  if (podSpec.containers.length !== 1) throw new Error(`the stand-in runs one container, the pod has ${podSpec.containers.length}`);
  const container = podSpec.containers[0]!;
  const name = `${sts.metadata!.name}-${ordinal}`;
  const namespace = sts.metadata!.namespace ?? 'default';
  // What the StatefulSet controller adds to each pod.
  const labels: Record<string, string> = {
    ...(template.metadata?.labels ?? {}),
    'apps.kubernetes.io/pod-index': String(ordinal),
    'statefulset.kubernetes.io/pod-name': name,
  };
  const dnsName = `${name}.${sts.spec!.serviceName}.${namespace}.svc.${src.clusterDomain}`;
  const substitutions: string[] = [];

  const ports: Record<string, number> = {};
  const byContainerPort = new Map<number, number>();
  for (const p of container.ports ?? []) {
    const host = await freePort();
    ports[p.name ?? String(p.containerPort)] = host;
    byContainerPort.set(p.containerPort, host);
  }

  const podDir = path.join(root, name);
  const mounts: Record<string, string> = {};
  for (const m of container.volumeMounts ?? []) {
    const dir = path.join(podDir, m.name);
    mkdirSync(dir, { recursive: true });
    const volume = (podSpec.volumes ?? []).find((v) => v.name === m.name);
    const claim = (sts.spec!.volumeClaimTemplates ?? []).find((c) => c.metadata?.name === m.name);
    if (volume?.configMap !== undefined) {
      const cm = src.configMaps.find((c) => c.metadata?.name === volume.configMap!.name);
      if (cm === undefined) throw new Error(`ConfigMap ${volume.configMap.name} of volume ${m.name} is missing`);
      for (const [k, v] of Object.entries(cm.data ?? {})) writeFileSync(path.join(dir, k), v);
    } else if (volume?.emptyDir === undefined && claim === undefined) {
      throw new Error(`the stand-in does not know volume ${m.name}`);
    }
    mounts[m.mountPath] = dir;
  }

  // One value's substitutions: mount paths, then the pod's own endpoints.
  const localise = (where: string, value: string): string => {
    // One pass over whole path prefixes, so a mount at /tmp does not rewrite the local directory
    // that another mount was just replaced with.
    const paths = Object.keys(mounts).sort((a, b) => b.length - a.length);
    const prefix = new RegExp(`(^|,)(${paths.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?=/|,|$)`, 'g');
    let out = paths.length === 0 ? value : value.replace(prefix, (_m, lead: string, p: string) => `${lead}${mounts[p]}`);
    out = out
      .split(',')
      .map((item) => {
        const m = /^([A-Za-z0-9_]+:\/\/)?([A-Za-z0-9.-]*):(\d+)$/.exec(item);
        if (m === null) return item;
        const host = m[2]!;
        const hostPort = byContainerPort.get(Number(m[3]));
        if (hostPort === undefined || (host !== '' && host !== dnsName)) return item;
        return `${m[1] ?? ''}${LOOPBACK}:${hostPort}`;
      })
      .join(',');
    if (out !== value) substitutions.push(`${where}: ${value} -> ${out}`);
    return out;
  };

  // Mounted properties files: the broker reads paths and listeners from them.
  for (const [mountPath, dir] of Object.entries(mounts)) {
    const volume = (podSpec.volumes ?? []).find((v) => v.name === container.volumeMounts!.find((m) => m.mountPath === mountPath)!.name);
    if (volume?.configMap === undefined) continue;
    const cm = src.configMaps.find((c) => c.metadata?.name === volume.configMap!.name)!;
    for (const [file, text] of Object.entries(cm.data ?? {})) {
      if (!file.endsWith('.properties')) continue;
      const lines = text.split('\n').map((line) => {
        const eq = line.indexOf('=');
        if (line.startsWith('#') || eq < 0) return line;
        return `${line.slice(0, eq + 1)}${localise(`${file} ${line.slice(0, eq)}`, line.slice(eq + 1))}`;
      });
      writeFileSync(path.join(dir, file), lines.join('\n'));
    }
  }

  const env: Record<string, string> = {};
  const expand = (s: string) => s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref, v: string) => env[v] ?? ref);
  for (const e of container.env ?? []) {
    let value: string;
    if (e.valueFrom === undefined) value = expand(e.value ?? '');
    else if (e.valueFrom.fieldRef !== undefined) {
      const f = e.valueFrom.fieldRef.fieldPath;
      const label = /^metadata\.labels\['(.+)'\]$/.exec(f);
      if (f === 'metadata.name') value = name;
      else if (f === 'metadata.namespace') value = namespace;
      else if (label !== null && labels[label[1]!] !== undefined) value = labels[label[1]!]!;
      else throw new Error(`env ${e.name}: the stand-in cannot resolve field ${f}`);
    } else if (e.valueFrom.secretKeyRef !== undefined) {
      const ref = e.valueFrom.secretKeyRef;
      const secret = src.secrets.find((s) => s.metadata?.name === ref.name);
      const data = secret?.data?.[ref.key];
      if (data === undefined) throw new Error(`env ${e.name}: Secret ${ref.name} has no key ${ref.key}`);
      value = Buffer.from(data, 'base64').toString('utf8');
    } else if (e.valueFrom.configMapKeyRef !== undefined) {
      const ref = e.valueFrom.configMapKeyRef;
      const v = src.configMaps.find((c) => c.metadata?.name === ref.name)?.data?.[ref.key];
      if (v === undefined) throw new Error(`env ${e.name}: ConfigMap ${ref.name} has no key ${ref.key}`);
      value = v;
    } else throw new Error(`env ${e.name}: unknown source`);
    env[e.name] = value;
  }
  for (const k of Object.keys(env)) env[k] = localise(`env ${k}`, env[k]!);
  const args = [...(container.command ?? []), ...(container.args ?? [])].map((a, i) => localise(`arg ${i}`, expand(a)));
  return { name, container, args, env, ports, mounts, substitutions };
}
