import { describe, expect, it } from 'vitest';
import type { StrataCluster } from '../api/v1alpha1.js';
import { clusterStatus, scaleDownCheck, type ObservedStatefulSet, type ReconcileOutcome } from './status.js';
import { storedCluster } from './test-fixtures.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';
const sts = (over: Partial<ObservedStatefulSet> = {}): ObservedStatefulSet => ({ observedGeneration: 2, generation: 2, replicas: 3, readyReplicas: 3, ...over });
const applied = (over: Partial<Extract<ReconcileOutcome, { kind: 'applied' }>> = {}): ReconcileOutcome => ({
  kind: 'applied',
  bootstrapServers: 'events-bootstrap.streaming.svc.cluster.local:9092',
  statefulSet: sts(),
  roll: { action: 'done' },
  ...over,
});
const conds = (s: ReturnType<typeof clusterStatus>) => Object.fromEntries(s.conditions!.map((c) => [c.type, [c.status, c.reason]]));

describe('clusterStatus', () => {
  it('is Ready when every broker is ready at the current spec, with counts, selector and bootstrap address', () => {
    const s = clusterStatus(storedCluster({ replicas: 3 }), applied(), T0);
    expect(conds(s)).toEqual({ Ready: ['True', 'BrokersReady'], Reconciling: ['False', 'UpToDate'], Stalled: ['False', 'Progressing'] });
    expect(s).toMatchObject({ observedGeneration: 1, replicas: 3, readyReplicas: 3, selector: 'strata.dev/cluster=events,app.kubernetes.io/component=broker', bootstrapServers: 'events-bootstrap.streaming.svc.cluster.local:9092' });
    for (const c of s.conditions!) expect(c).toMatchObject({ observedGeneration: 1, lastTransitionTime: T0 });
  });

  it('is Reconciling while creating, while the StatefulSet lags, while rolling, scaling or waiting for brokers', () => {
    const cluster = storedCluster({ replicas: 3 });
    expect(conds(clusterStatus(cluster, applied({ statefulSet: undefined }), T0)).Reconciling).toEqual(['True', 'Creating']);
    expect(conds(clusterStatus(cluster, applied({ statefulSet: sts({ observedGeneration: 1 }) }), T0)).Reconciling).toEqual(['True', 'Progressing']);
    const rolling = clusterStatus(cluster, applied({ roll: { action: 'restart', pod: 'events-broker-2', reason: 'broker configuration changed' } }), T0);
    expect(conds(rolling)).toMatchObject({ Ready: ['False', 'Rolling'], Reconciling: ['True', 'Rolling'] });
    expect(rolling.conditions!.find((c) => c.type === 'Reconciling')!.message).toBe('restarting events-broker-2: broker configuration changed');
    expect(conds(clusterStatus(cluster, applied({ statefulSet: sts({ replicas: 2, readyReplicas: 2 }) }), T0)).Reconciling).toEqual(['True', 'Scaling']);
    expect(conds(clusterStatus(cluster, applied({ statefulSet: sts({ readyReplicas: 1 }) }), T0))).toMatchObject({ Ready: ['False', 'WaitingForBrokers'], Reconciling: ['True', 'WaitingForBrokers'] });
  });

  it('is Stalled, not Ready, for an invalid spec, a refused scale-down or a blocked roll, saying why', () => {
    const cluster = storedCluster({ replicas: 3 });
    const invalid = clusterStatus(cluster, { kind: 'invalid', field: 'spec.config', message: 'invalid value for num.partitions' }, T0);
    expect(conds(invalid)).toEqual({ Ready: ['False', 'InvalidSpec'], Reconciling: ['False', 'InvalidSpec'], Stalled: ['True', 'InvalidSpec'] });
    expect(invalid.conditions!.find((c) => c.type === 'Stalled')!.message).toBe('spec.config: invalid value for num.partitions');
    const refused = clusterStatus(storedCluster({ replicas: 2 }), applied({ scaleDownRefused: 'broker 2 holds 4 partition replicas' }), T0);
    expect(conds(refused)).toMatchObject({ Ready: ['False', 'ScaleDownRefused'], Stalled: ['True', 'ScaleDownRefused'] });
    expect(conds(clusterStatus(cluster, applied({ roll: { action: 'blocked', reason: 'under-replicated' } }), T0)).Stalled).toEqual(['True', 'RollBlocked']);
  });

  it('keeps lastTransitionTime while a condition keeps its status, and moves it when the status flips', () => {
    const cluster: StrataCluster = { ...storedCluster({ replicas: 3 }), status: clusterStatus(storedCluster({ replicas: 3 }), applied(), T0) };
    const same = clusterStatus(cluster, applied(), T1);
    expect(same).toEqual(cluster.status);
    const flipped = clusterStatus(cluster, applied({ statefulSet: sts({ readyReplicas: 2 }) }), T1);
    expect(flipped.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime).toBe(T1);
    expect(flipped.conditions!.find((c) => c.type === 'Stalled')!.lastTransitionTime).toBe(T0);
  });
});

describe('scaleDownCheck', () => {
  it('allows growing, and shrinking away brokers that hold nothing', () => {
    expect(scaleDownCheck(3, 5, undefined)).toEqual({ allowed: true });
    expect(scaleDownCheck(3, 1, new Map([[0, 7], [1, 0], [2, 0]]))).toEqual({ allowed: true });
  });

  it('refuses removing a broker that holds partition replicas, naming it', () => {
    expect(scaleDownCheck(3, 1, new Map([[0, 7], [1, 0], [2, 4]]))).toEqual({
      allowed: false,
      reason: 'scaling from 3 to 1 brokers is refused: broker 2 holds 4 partition replicas; move or delete those partitions first (partition reassignment does not exist yet)',
    });
  });

  it('refuses when the brokers could not be asked', () => {
    expect(scaleDownCheck(2, 1, undefined)).toMatchObject({ allowed: false, reason: expect.stringContaining('brokers 1 could not be checked') });
  });
});
