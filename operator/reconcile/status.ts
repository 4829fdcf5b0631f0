// A StrataCluster's status as a pure function of what one reconcile found: Ready, Reconciling and
// Stalled conditions (the kstatus convention GitOps tools read), each with observedGeneration,
// plus the broker counts, the pod selector for the scale subresource, and the bootstrap address.
// A condition keeps its lastTransitionTime while its status stays the same, so an unchanged
// cluster writes an unchanged status.
import type { Condition, StrataCluster, StrataClusterStatus } from '../api/v1alpha1.js';
import { selectorText } from './names.js';
import type { RollDecision } from './roll.js';

/** What the StatefulSet's status said. */
export interface ObservedStatefulSet {
  readonly observedGeneration: number | undefined;
  readonly generation: number | undefined;
  readonly replicas: number;
  readonly readyReplicas: number;
}

export type ReconcileOutcome =
  /** The spec cannot be rendered (InvalidSpecError): nothing was applied. */
  | { readonly kind: 'invalid'; readonly field: string; readonly message: string }
  | {
      readonly kind: 'applied';
      readonly bootstrapServers: string;
      /** Absent until the StatefulSet exists. */
      readonly statefulSet: ObservedStatefulSet | undefined;
      readonly roll: RollDecision;
      /** Set when a scale-down was held back (scaleDownCheck). */
      readonly scaleDownRefused?: string;
    };

type Status = Condition['status'];

export function condition(previous: readonly Condition[] | undefined, type: string, status: Status, reason: string, message: string, generation: number | undefined, now: string): Condition {
  const before = previous?.find((c) => c.type === type);
  return {
    type,
    status,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    lastTransitionTime: before !== undefined && before.status === status ? before.lastTransitionTime : now,
    reason,
    message,
  };
}

export function clusterStatus(cluster: StrataCluster, outcome: ReconcileOutcome, now: string): StrataClusterStatus {
  const generation = cluster.metadata.generation;
  const prev = cluster.status?.conditions;
  const c = (type: string, status: Status, reason: string, message: string) => condition(prev, type, status, reason, message, generation, now);
  const base = { ...(generation === undefined ? {} : { observedGeneration: generation }), selector: selectorText(cluster) };

  if (outcome.kind === 'invalid') {
    const message = `${outcome.field}: ${outcome.message}`;
    return {
      ...base,
      replicas: cluster.status?.replicas ?? 0,
      readyReplicas: cluster.status?.readyReplicas ?? 0,
      conditions: [c('Ready', 'False', 'InvalidSpec', message), c('Reconciling', 'False', 'InvalidSpec', 'waiting for the spec to change'), c('Stalled', 'True', 'InvalidSpec', message)],
    };
  }

  const sts = outcome.statefulSet;
  const want = cluster.spec.replicas;
  const replicas = sts?.replicas ?? 0;
  const ready = sts?.readyReplicas ?? 0;
  const stalled =
    outcome.scaleDownRefused !== undefined
      ? { reason: 'ScaleDownRefused', message: outcome.scaleDownRefused }
      : outcome.roll.action === 'blocked'
        ? { reason: 'RollBlocked', message: outcome.roll.reason }
        : null;
  let progress: { reason: string; message: string } | null = null;
  if (sts === undefined) progress = { reason: 'Creating', message: 'the StatefulSet does not exist yet' };
  else if (sts.observedGeneration === undefined || sts.generation === undefined || sts.observedGeneration < sts.generation) progress = { reason: 'Progressing', message: 'the StatefulSet controller has not seen the latest spec yet' };
  else if (outcome.roll.action === 'restart' || outcome.roll.action === 'wait') progress = { reason: 'Rolling', message: outcome.roll.action === 'restart' ? `restarting ${outcome.roll.pod}: ${outcome.roll.reason}` : outcome.roll.reason };
  else if (stalled === null && replicas !== want) progress = { reason: 'Scaling', message: `${replicas} of ${want} brokers exist` };
  else if (ready < replicas) progress = { reason: 'WaitingForBrokers', message: `${ready} of ${replicas} brokers are ready` };

  const isReady = stalled === null && progress === null && ready === want;
  return {
    ...base,
    replicas,
    readyReplicas: ready,
    bootstrapServers: outcome.bootstrapServers,
    conditions: [
      isReady ? c('Ready', 'True', 'BrokersReady', `${ready} of ${want} brokers are ready`) : c('Ready', 'False', stalled?.reason ?? progress?.reason ?? 'NotReady', stalled?.message ?? progress?.message ?? `${ready} of ${want} brokers are ready`),
      progress === null ? c('Reconciling', 'False', 'UpToDate', 'every broker runs the current spec') : c('Reconciling', 'True', progress.reason, progress.message),
      stalled === null ? c('Stalled', 'False', 'Progressing', 'nothing blocks the reconcile') : c('Stalled', 'True', stalled.reason, stalled.message),
    ],
  };
}

/**
 * Whether the StatefulSet may shrink from `current` to `desired` brokers. A broker that still holds
 * partition replicas must not be removed: with no partition reassignment yet, its data would go.
 * `replicasHeld` gives, per ordinal, how many partition replicas that broker holds, or is absent
 * when the brokers could not be asked (then the scale-down is refused: better late than lossy).
 */
export function scaleDownCheck(current: number, desired: number, replicasHeld: ReadonlyMap<number, number> | undefined): { allowed: true } | { allowed: false; reason: string } {
  if (desired >= current) return { allowed: true };
  const leaving = Array.from({ length: current - desired }, (_, i) => desired + i);
  if (replicasHeld === undefined) return { allowed: false, reason: `scaling from ${current} to ${desired} brokers is held back: the partitions on brokers ${leaving.join(', ')} could not be checked` };
  const holding = leaving.filter((o) => (replicasHeld.get(o) ?? 0) > 0);
  if (holding.length === 0) return { allowed: true };
  return {
    allowed: false,
    reason: `scaling from ${current} to ${desired} brokers is refused: ${holding.map((o) => `broker ${o} holds ${replicasHeld.get(o)} partition replicas`).join(', ')}; move or delete those partitions first (partition reassignment does not exist yet)`,
  };
}
