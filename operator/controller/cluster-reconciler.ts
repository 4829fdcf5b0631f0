// reconcile("namespace/name") for a StrataCluster: read the resource and what exists, call the pure
// functions of ../reconcile/, apply their objects, take at most one roll step, write the status.
// Every call converges from the current state; it never remembers anything between calls, so a
// restarted operator resumes a roll where the pods say it is.
//
//   1. Read the StrataCluster (gone or being deleted: nothing to do; owner references let the
//      garbage collector remove what it owned).
//   2. Hold back a scale-down that scaleDownCheck refuses: the StatefulSet keeps its size.
//   3. Render the objects; a spec that cannot be rendered is Stalled (TerminalError, no retry).
//   4. Apply them (server-side apply). A refusal that repeats (422) is Stalled; others retry.
//   5. Read the StatefulSet and its pods; apply the live broker keys to the ready brokers
//      (IncrementalAlterConfigs, no restart; an Event says so); nextRestart decides; a restart
//      deletes one pod and records an Event saying why.
//   6. Write the status when it changed; requeue while anything is in progress.
import * as k8s from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { API_VERSION, GROUP, VERSION, type StrataCluster } from '../api/v1alpha1.js';
import type { OperatorSettings } from '../defaults.js';
import { ApplyError, applyObjects } from '../kube/apply.js';
import { writeStatusIfChanged } from '../kube/status.js';
import { describeLivePlan } from '../reconcile/live-config.js';
import { InvalidSpecError } from '../reconcile/broker-config.js';
import { desiredClusterObjects, type Capabilities } from '../reconcile/cluster.js';
import { ANNOTATION_CONFIG_HASH, clusterNames, selectorText } from '../reconcile/names.js';
import { ANNOTATION_RACK, nodesToRead, rackSteps, type RackPod } from '../reconcile/rack.js';
import { nextRestart, type ObservedPod, type RollDecision, type RollInput } from '../reconcile/roll.js';
import { clusterStatus, scaleDownCheck, type ObservedStatefulSet, type ReconcileOutcome } from '../reconcile/status.js';
import type { LiveConfigApplier } from './brokers.js';
import { TerminalError, type ReconcileResult } from './worker.js';

/** How often a cluster in progress (a roll, brokers starting) is looked at again. */
export const PROGRESS_REQUEUE_MS = 5_000;

export interface ClusterReconcilerOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly settings: OperatorSettings;
  readonly capabilities: () => Promise<Capabilities>;
  /** ISO time for conditions and Events. */
  readonly now?: () => string;
  /** Partition replicas each leaving broker holds (by ordinal), for scaleDownCheck; absent or
   *  undefined means unknown, and a scale-down is held back. Asked of the brokers, later. */
  readonly replicasHeld?: (cluster: StrataCluster, ordinals: number[]) => Promise<ReadonlyMap<number, number> | undefined>;
  /** Applies the broker keys a running broker takes live (RenderedBrokerConfig.live) to the ready
   *  brokers, by ordinal (liveConfigOnBrokers in ./brokers.ts); a change to those keys alone then
   *  rolls no pod. Absent: every config change rolls the brokers. */
  readonly liveConfig?: LiveConfigApplier;
  /** The replication health hook of the roll (see ../reconcile/roll.ts). */
  readonly canRestart?: RollInput['canRestart'];
  /** Told when an Event could not be recorded (that never fails the reconcile). */
  readonly onEventError?: (error: unknown) => void;
}

/** RFC 3339 with microseconds, as metav1.MicroTime parses it. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const STATUS_OF = (e: unknown) => (e instanceof k8s.ApiException ? e.code : 0);

export class ClusterReconciler {
  readonly #o: ClusterReconcilerOptions;
  readonly #api: k8s.KubernetesObjectApi;
  readonly #custom: k8s.CustomObjectsApi;
  readonly #apps: k8s.AppsV1Api;
  readonly #core: k8s.CoreV1Api;
  readonly #now: () => string;

  constructor(options: ClusterReconcilerOptions) {
    this.#o = options;
    this.#api = k8s.KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.#custom = options.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.#apps = options.kubeConfig.makeApiClient(k8s.AppsV1Api);
    this.#core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.#now = options.now ?? (() => new Date().toISOString());
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    let cluster: StrataCluster & { metadata: { deletionTimestamp?: string } };
    try {
      cluster = (await this.#custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'strataclusters', name })) as typeof cluster;
    } catch (e) {
      if (STATUS_OF(e) === 404) return {};
      throw e;
    }
    if (cluster.metadata.deletionTimestamp !== undefined) return {};
    const names = clusterNames(name);

    const sts = await this.#readStatefulSet(namespace, names.statefulSet);
    const current = sts?.spec?.replicas;
    let held: number | undefined;
    let scaleDownRefused: string | undefined;
    if (current !== undefined && cluster.spec.replicas < current) {
      const leaving = Array.from({ length: current - cluster.spec.replicas }, (_, i) => cluster.spec.replicas + i);
      const check = scaleDownCheck(current, cluster.spec.replicas, await (this.#o.replicasHeld?.(cluster, leaving) ?? Promise.resolve(undefined)));
      if (!check.allowed) {
        held = current;
        scaleDownRefused = check.reason;
      }
    }

    let desired;
    try {
      const existingClaimTemplates = sts?.spec?.volumeClaimTemplates;
      desired = desiredClusterObjects(cluster, this.#o.settings, await this.#o.capabilities(), {
        ...(held === undefined ? {} : { replicas: held }),
        ...(existingClaimTemplates === undefined ? {} : { existingClaimTemplates }),
        liveConfig: this.#o.liveConfig !== undefined,
      });
      await applyObjects(this.#api, desired.objects);
    } catch (e) {
      const invalid = e instanceof InvalidSpecError ? { field: e.field, message: e.message.slice(e.field.length + 2) } : e instanceof ApplyError && !e.retriable ? { field: 'spec', message: e.message } : null;
      if (invalid === null) throw e;
      await this.#writeStatus(cluster, { kind: 'invalid', ...invalid });
      throw new TerminalError(`${key}: ${invalid.field}: ${invalid.message}`, { cause: e });
    }

    const observed = await this.#readStatefulSet(namespace, names.statefulSet);
    // One list of the broker pods serves the rack step and the roll; it is read after the
    // StatefulSet, so it is never older than the revision the roll compares it with.
    const podList = await this.#listPods(cluster);
    const rackWaiting = cluster.spec.rack === undefined ? false : await this.#assignRacks(cluster, cluster.spec.rack.topologyKey, podList);
    let roll: RollDecision = { action: 'wait', reason: 'the StatefulSet controller has not seen the latest template yet' };
    let observedSts: ObservedStatefulSet | undefined;
    let liveFailed = false;
    if (observed !== undefined) {
      observedSts = {
        observedGeneration: observed.status?.observedGeneration,
        generation: observed.metadata?.generation,
        replicas: observed.status?.replicas ?? 0,
        readyReplicas: observed.status?.readyReplicas ?? 0,
      };
      const updateRevision = observed.status?.updateRevision;
      if (updateRevision !== undefined && observedSts.observedGeneration !== undefined && observedSts.observedGeneration >= (observedSts.generation ?? 0)) {
        const pods = this.#observedPods(cluster, podList);
        if (this.#o.liveConfig !== undefined) liveFailed = await this.#applyLive(cluster, desired.config.live, pods);
        roll = nextRestart({
          updateRevision,
          replicas: observed.spec?.replicas ?? 0,
          pods,
          desiredConfigHash: desired.configHash,
          ...(this.#o.canRestart === undefined ? {} : { canRestart: this.#o.canRestart }),
        });
        if (roll.action === 'restart') await this.#restart(cluster, roll.pod, roll.reason);
      }
    }

    const outcome: ReconcileOutcome = { kind: 'applied', bootstrapServers: desired.bootstrapServers, statefulSet: observedSts, roll, ...(scaleDownRefused === undefined ? {} : { scaleDownRefused }) };
    const status = await this.#writeStatus(cluster, outcome);
    const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const stalled = status.conditions?.find((c) => c.type === 'Stalled')?.status === 'True';
    // A stalled scale-down or roll waits for the spec or the brokers; look again, less often.
    if (liveFailed || rackWaiting) return { requeueAfterMs: PROGRESS_REQUEUE_MS };
    return ready ? {} : { requeueAfterMs: stalled ? PROGRESS_REQUEUE_MS * 6 : PROGRESS_REQUEUE_MS };
  }

  /**
   * Rack awareness: copies the rack label of each scheduled broker pod's node onto the pod
   * (annotation strata.dev/rack), which its rack-init container waits for (reconcile/rack.ts).
   * True while a pod waits because its node lacks the label (a Warning Event says which).
   */
  async #assignRacks(cluster: StrataCluster, topologyKey: string, podList: readonly k8s.V1Pod[]): Promise<boolean> {
    const namespace = cluster.metadata.namespace!;
    const pods: RackPod[] = podList.map((p) => ({
      name: p.metadata!.name!,
      uid: p.metadata!.uid!,
      nodeName: p.spec?.nodeName,
      rack: p.metadata?.annotations?.[ANNOTATION_RACK],
      terminating: p.metadata?.deletionTimestamp !== undefined,
    }));
    const labels = new Map<string, Record<string, string> | undefined>();
    for (const node of nodesToRead(pods)) {
      try {
        labels.set(node, (await this.#core.readNode({ name: node })).metadata?.labels ?? {});
      } catch (e) {
        if (STATUS_OF(e) !== 404) throw e;
        labels.set(node, undefined);
      }
    }
    const steps = rackSteps(pods, labels, topologyKey);
    for (const step of steps) {
      if (step.action === 'missing') continue;
      await this.#core.patchNamespacedPod(
        // The uid is a precondition: a pod recreated (maybe elsewhere) since the list is left alone.
        { namespace, name: step.pod, body: { metadata: { uid: step.uid, annotations: { [ANNOTATION_RACK]: step.rack } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    }
    const missing = steps.filter((s) => s.action === 'missing');
    if (missing.length > 0) {
      const what = missing.map((m) => `${m.pod} on node ${m.node}`).join(', ');
      await this.#event(cluster, 'Warning', 'RackLabelMissing', 'AssignRack', `spec.rack.topologyKey ${topologyKey} is not a label of the node of ${what}; the broker waits in its rack-init container until it is`, true);
    }
    return missing.length > 0;
  }

  /** The live keys to every ready broker; true when a broker could not take them (tried again). */
  async #applyLive(cluster: StrataCluster, live: Readonly<Record<string, string>>, pods: readonly ObservedPod[]): Promise<boolean> {
    const ordinals = pods.filter((p) => p.ready && !p.terminating).map((p) => p.ordinal).sort((a, b) => a - b);
    if (ordinals.length === 0) return false;
    const r = await this.#o.liveConfig!(cluster, live, ordinals);
    const pod = clusterNames(cluster.metadata.name).pod;
    if (r.applied.length > 0) {
      const what = r.applied.map((a) => `${pod(a.ordinal)} (${describeLivePlan(a.plan)})`).join('; ');
      await this.#event(cluster, 'Normal', 'ConfigAppliedLive', 'Configure', `broker configuration applied without a restart: ${what}`);
    }
    if (r.failed.length > 0) {
      await this.#event(cluster, 'Warning', 'ConfigLiveFailed', 'Configure', `broker configuration not applied live, retrying: ${r.failed.map((f) => `${pod(f.ordinal)}: ${f.error}`).join('; ')}`, true);
    }
    return r.failed.length > 0;
  }

  async #readStatefulSet(namespace: string, name: string): Promise<k8s.V1StatefulSet | undefined> {
    try {
      return await this.#apps.readNamespacedStatefulSet({ namespace, name });
    } catch (e) {
      if (STATUS_OF(e) === 404) return undefined;
      throw e;
    }
  }

  /** The broker pods of the cluster, by the pod selector. */
  async #listPods(cluster: StrataCluster): Promise<k8s.V1Pod[]> {
    return (await this.#core.listNamespacedPod({ namespace: cluster.metadata.namespace!, labelSelector: selectorText(cluster) })).items;
  }

  #observedPods(cluster: StrataCluster, podList: readonly k8s.V1Pod[]): ObservedPod[] {
    const prefix = `${clusterNames(cluster.metadata.name).statefulSet}-`;
    return podList
      .filter((p) => p.metadata?.name?.startsWith(prefix) === true && /^\d+$/.test(p.metadata.name.slice(prefix.length)))
      .map((p) => ({
        name: p.metadata!.name!,
        ordinal: Number(p.metadata!.name!.slice(prefix.length)),
        revision: p.metadata?.labels?.['controller-revision-hash'],
        ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
        terminating: p.metadata?.deletionTimestamp !== undefined,
        configHash: p.metadata?.annotations?.[ANNOTATION_CONFIG_HASH],
      }));
  }

  async #restart(cluster: StrataCluster, pod: string, reason: string): Promise<void> {
    const namespace = cluster.metadata.namespace!;
    try {
      await this.#core.deleteNamespacedPod({ namespace, name: pod });
    } catch (e) {
      if (STATUS_OF(e) !== 404) throw e;
    }
    await this.#event(cluster, 'Normal', 'RestartingBroker', 'Restart', `restarting ${pod}: ${reason}`);
  }

  /** Records an Event on the cluster; failing to record one never fails the reconcile. */
  /**
   * Records an Event. A `repeating` one (a warning that each requeue would record again while the
   * cause lasts) is named after its reason and message, so a repeat counts up the one Event
   * (count, lastTimestamp) instead of adding another every few seconds.
   */
  async #event(cluster: StrataCluster, type: 'Normal' | 'Warning', reason: string, action: string, message: string, repeating = false): Promise<void> {
    const now = new Date(this.#now());
    const namespace = cluster.metadata.namespace!;
    const suffix = repeating ? `${reason.toLowerCase()}.${createHash('sha256').update(message).digest('hex').slice(0, 12)}` : randomBytes(8).toString('hex');
    const name = `${cluster.metadata.name}.${suffix}`;
    try {
      if (repeating) {
        try {
          const seen = await this.#core.readNamespacedEvent({ namespace, name });
          await this.#core.patchNamespacedEvent(
            { namespace, name, body: { count: (seen.count ?? 1) + 1, lastTimestamp: now } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );
          return;
        } catch (e) {
          if (STATUS_OF(e) !== 404) throw e;
        }
      }
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject: { apiVersion: API_VERSION, kind: 'StrataCluster', name: cluster.metadata.name, namespace: cluster.metadata.namespace!, uid: cluster.metadata.uid! },
          type,
          reason,
          message,
          // eventTime has sub-second precision, so Events of one second keep their order. The API
          // wants exactly six fraction digits (MicroTime); the client would write three.
          eventTime: microTime(now) as unknown as Date,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          action,
          source: { component: 'strata-operator' },
          reportingComponent: 'strata-operator',
          reportingInstance: hostname(),
        },
      });
    } catch (e) {
      // Events are best effort, as in every Kubernetes controller.
      this.#o.onEventError?.(e);
    }
  }

  async #writeStatus(cluster: StrataCluster, outcome: ReconcileOutcome) {
    return writeStatusIfChanged(this.#custom, 'strataclusters', cluster, clusterStatus(cluster, outcome, this.#now()));
  }
}
