// What the cluster reconciler asks of the brokers themselves, through the Kafka admin protocol:
//   - replicasHeld: how many partition replicas each broker holds, for scaleDownCheck. Each
//     leaving broker is asked directly (Metadata, every topic), and the replicas naming its node id
//     (= its pod ordinal) are counted, internal topics included: their data goes with the broker
//     too. Asking the broker itself stays right while brokers do not replicate (each one knows
//     only its own partitions) and after. A broker that cannot be asked makes the answer
//     undefined, and the scale-down waits.
//   - liveConfig: the broker keys of the spec that a running broker takes at run time
//     (../reconcile/live-config.ts), applied with IncrementalAlterConfigs on each ready broker
//     (resource BROKER, name = its node id), after DescribeConfigs says what it runs with.
// Brokers are reached at their pod's stable name in the headless Service by default; tests, which
// run brokers on 127.0.0.1, inject addressOf.
import type { StrataCluster } from '../api/v1alpha1.js';
import { DEFAULT_LISTENERS, type OperatorSettings } from '../defaults.js';
import { type AdminOptions, KafkaAdmin, ResourceType } from '../kafka/admin.js';
import { brokerHost } from '../reconcile/cluster.js';
import { type LivePlan, livePlanEmpty, planLiveConfig } from '../reconcile/live-config.js';
import { clusterNames } from '../reconcile/names.js';

/** host:port of the broker with this ordinal. */
export type BrokerAddressOf = (cluster: StrataCluster, ordinal: number) => string;

/** The broker pod's stable DNS name and its first listener's port. */
export function podAddressOf(settings: OperatorSettings): BrokerAddressOf {
  return (cluster, ordinal) => `${brokerHost(cluster, settings, clusterNames(cluster.metadata.name).pod(ordinal))}:${(cluster.spec.listeners ?? DEFAULT_LISTENERS)[0]!.port}`;
}

export interface BrokerAdminOptions {
  readonly addressOf: BrokerAddressOf;
  /** Timeouts and limits of each admin connection. */
  readonly admin?: Omit<AdminOptions, 'bootstrap'>;
  /** Told why a broker could not be asked (the answer is then undefined or a failure). */
  readonly onError?: (cluster: StrataCluster, ordinal: number, error: unknown) => void;
}

async function withBroker<T>(o: BrokerAdminOptions, cluster: StrataCluster, ordinal: number, f: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const admin = await KafkaAdmin.connect({ ...o.admin, bootstrap: [o.addressOf(cluster, ordinal)] });
  try {
    return await f(admin);
  } finally {
    admin.close();
  }
}

export type ReplicasHeld = (cluster: StrataCluster, ordinals: number[]) => Promise<ReadonlyMap<number, number> | undefined>;

/** ClusterReconcilerOptions.replicasHeld, asking each broker. */
export function replicasHeldByBrokers(o: BrokerAdminOptions): ReplicasHeld {
  return async (cluster, ordinals) => {
    const held = new Map<number, number>();
    for (const ordinal of ordinals) {
      try {
        const md = await withBroker(o, cluster, ordinal, (admin) => admin.metadata(null));
        let n = 0;
        for (const t of md.topics) for (const p of t.partitions) if (p.replicaNodes.includes(ordinal)) n++;
        held.set(ordinal, n);
      } catch (e) {
        o.onError?.(cluster, ordinal, e);
        return undefined;
      }
    }
    return held;
  };
}

export interface LiveConfigResult {
  /** Brokers that were sent a change, with what was sent. */
  readonly applied: readonly { readonly ordinal: number; readonly plan: LivePlan }[];
  /** Brokers that could not be asked or refused; tried again at the next reconcile. */
  readonly failed: readonly { readonly ordinal: number; readonly error: string }[];
}

export type LiveConfigApplier = (cluster: StrataCluster, live: Readonly<Record<string, string>>, ordinals: readonly number[]) => Promise<LiveConfigResult>;

/** ClusterReconcilerOptions.liveConfig, applying to each broker in turn. */
export function liveConfigOnBrokers(o: BrokerAdminOptions): LiveConfigApplier {
  return async (cluster, live, ordinals) => {
    const applied: { ordinal: number; plan: LivePlan }[] = [];
    const failed: { ordinal: number; error: string }[] = [];
    for (const ordinal of ordinals) {
      try {
        const plan = await withBroker(o, cluster, ordinal, async (admin) => {
          const name = String(ordinal);
          const p = planLiveConfig(live, await admin.describeConfigs(ResourceType.BROKER, name));
          if (!livePlanEmpty(p)) await admin.alterConfigs(ResourceType.BROKER, name, p.set, p.delete);
          return p;
        });
        if (!livePlanEmpty(plan)) applied.push({ ordinal, plan });
      } catch (e) {
        o.onError?.(cluster, ordinal, e);
        failed.push({ ordinal, error: (e as Error).message });
      }
    }
    return { applied, failed };
  };
}
