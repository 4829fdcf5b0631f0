// Which broker pod to restart next, as a pure function of what the controller observed. The
// StatefulSet uses OnDelete, so a changed pod template only makes a new revision; pods move to it
// when the operator deletes them, and this function decides when and which:
//   - one at a time: nothing is deleted while any pod is missing, terminating or not ready, except
//     that an outdated pod which is itself not ready may be restarted first (restarting a broken
//     pod cannot make things worse, and the new revision may be what fixes it);
//   - among ready pods, the highest ordinal first (the order the StatefulSet controller would use);
//   - before each restart the replication health hook is asked, so a restart never takes a
//     partition below min.insync.replicas once brokers replicate (today every partition has one
//     replica on one broker, and the default hook says yes).
// The controller records the decision's reason in an Event on the cluster.

export interface ObservedPod {
  readonly name: string;
  readonly ordinal: number;
  /** The pod's controller-revision-hash label. */
  readonly revision: string | undefined;
  readonly ready: boolean;
  /** metadata.deletionTimestamp is set. */
  readonly terminating: boolean;
  /** strata.dev/config-hash of the pod, to say why it restarts. */
  readonly configHash?: string | undefined;
}

export interface RollInput {
  /** status.updateRevision of the StatefulSet: the revision every pod should run. */
  readonly updateRevision: string;
  /** spec.replicas of the StatefulSet. */
  readonly replicas: number;
  readonly pods: readonly ObservedPod[];
  /** strata.dev/config-hash of the current pod template. */
  readonly desiredConfigHash?: string;
  /** The replication health check; see the header. */
  readonly canRestart?: (pod: ObservedPod) => { ok: true } | { ok: false; reason: string };
}

export type RollDecision =
  /** Every pod runs the update revision. */
  | { readonly action: 'done' }
  /** A roll is due but must wait for the cluster to settle. */
  | { readonly action: 'wait'; readonly reason: string }
  /** Delete this pod now; the StatefulSet controller recreates it at the update revision. */
  | { readonly action: 'restart'; readonly pod: string; readonly reason: string }
  /** The health hook refused every candidate; reported as a condition until it allows one. */
  | { readonly action: 'blocked'; readonly reason: string };

export const ALWAYS_HEALTHY: NonNullable<RollInput['canRestart']> = () => ({ ok: true });

function why(pod: ObservedPod, input: RollInput): string {
  if (input.desiredConfigHash !== undefined && pod.configHash !== undefined && pod.configHash !== input.desiredConfigHash) {
    return `broker configuration changed (config hash ${pod.configHash} -> ${input.desiredConfigHash})`;
  }
  return `pod template changed (revision ${pod.revision ?? 'unknown'} -> ${input.updateRevision})`;
}

export function nextRestart(input: RollInput): RollDecision {
  const outdated = input.pods.filter((p) => p.revision !== input.updateRevision).sort((a, b) => b.ordinal - a.ordinal);
  if (outdated.length === 0) return { action: 'done' };
  const terminating = input.pods.filter((p) => p.terminating);
  if (terminating.length > 0) return { action: 'wait', reason: `waiting for ${terminating.map((p) => p.name).join(', ')} to terminate` };
  const present = new Set(input.pods.map((p) => p.ordinal));
  const missing = Array.from({ length: input.replicas }, (_, i) => i).filter((i) => !present.has(i));
  if (missing.length > 0) return { action: 'wait', reason: `pods ${missing.join(', ')} do not exist yet` };
  const check = input.canRestart ?? ALWAYS_HEALTHY;
  const notReady = input.pods.filter((p) => !p.ready);
  if (notReady.length > 0) {
    // Only a broken outdated pod may go while others are not ready, and only when it is the one
    // not ready: two unready brokers at once would be a second outage.
    const broken = outdated.filter((p) => !p.ready);
    if (notReady.length === 1 && broken.length === 1) {
      const pod = broken[0]!;
      return { action: 'restart', pod: pod.name, reason: `${why(pod, input)}; it is not ready, so it goes first` };
    }
    return { action: 'wait', reason: `waiting for ${notReady.map((p) => p.name).join(', ')} to be ready` };
  }
  const refusals: string[] = [];
  for (const pod of outdated) {
    const verdict = check(pod);
    if (verdict.ok) return { action: 'restart', pod: pod.name, reason: why(pod, input) };
    refusals.push(`${pod.name}: ${verdict.reason}`);
  }
  return { action: 'blocked', reason: `no broker can restart safely: ${refusals.join('; ')}` };
}
