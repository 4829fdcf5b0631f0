import { describe, expect, it } from 'vitest';
import { nextRestart, type ObservedPod, type RollInput } from './roll.js';

const pod = (ordinal: number, over: Partial<ObservedPod> = {}): ObservedPod => ({
  name: `events-broker-${ordinal}`,
  ordinal,
  revision: 'old',
  ready: true,
  terminating: false,
  configHash: 'aaaa',
  ...over,
});
const input = (pods: ObservedPod[], over: Partial<RollInput> = {}): RollInput => ({ updateRevision: 'new', replicas: pods.length, pods, desiredConfigHash: 'bbbb', ...over });

describe('nextRestart', () => {
  it('is done when every pod runs the update revision', () => {
    expect(nextRestart(input([pod(0, { revision: 'new' }), pod(1, { revision: 'new' })]))).toEqual({ action: 'done' });
  });

  it('restarts the highest ordinal first, saying the config changed', () => {
    expect(nextRestart(input([pod(0), pod(1), pod(2)]))).toEqual({
      action: 'restart',
      pod: 'events-broker-2',
      reason: 'broker configuration changed (config hash aaaa -> bbbb)',
    });
  });

  it('says the template changed when the config did not', () => {
    const d = nextRestart(input([pod(0, { configHash: 'bbbb' })]));
    expect(d).toEqual({ action: 'restart', pod: 'events-broker-0', reason: 'pod template changed (revision old -> new)' });
  });

  it('walks the cluster one pod at a time: each step waits for the previous pod to be ready', () => {
    // Simulate the controller: delete the chosen pod, which comes back at the new revision not
    // ready, then becomes ready. The order of restarts is the roll.
    let pods = [pod(0), pod(1), pod(2)];
    const order: string[] = [];
    for (let step = 0; step < 20; step++) {
      const d = nextRestart(input(pods));
      if (d.action === 'done') break;
      if (d.action === 'restart') {
        order.push(d.pod);
        pods = pods.map((p) => (p.name === d.pod ? { ...p, revision: 'new', ready: false, configHash: 'bbbb' } : p));
        // While the new pod is not ready, nothing else is restarted (after the last one the roll
        // is done; the Ready condition waits for the pod).
        const outdatedLeft = pods.some((p) => p.revision !== 'new');
        expect(nextRestart(input(pods))).toEqual(outdatedLeft ? { action: 'wait', reason: `waiting for ${d.pod} to be ready` } : { action: 'done' });
        pods = pods.map((p) => (p.name === d.pod ? { ...p, ready: true } : p));
      } else throw new Error(`unexpected ${d.action}`);
    }
    expect(order).toEqual(['events-broker-2', 'events-broker-1', 'events-broker-0']);
    expect(nextRestart(input(pods))).toEqual({ action: 'done' });
  });

  it('restarts a broken outdated pod first, but not while another pod is also down', () => {
    expect(nextRestart(input([pod(0), pod(1, { ready: false }), pod(2)]))).toEqual({
      action: 'restart',
      pod: 'events-broker-1',
      reason: 'broker configuration changed (config hash aaaa -> bbbb); it is not ready, so it goes first',
    });
    expect(nextRestart(input([pod(0, { ready: false }), pod(1, { ready: false }), pod(2)]))).toEqual({ action: 'wait', reason: 'waiting for events-broker-0, events-broker-1 to be ready' });
    // An up-to-date pod that is not ready blocks the roll.
    expect(nextRestart(input([pod(0), pod(1, { revision: 'new', ready: false })])).action).toBe('wait');
  });

  it('waits while a pod terminates or is missing', () => {
    expect(nextRestart(input([pod(0), pod(1, { terminating: true })]))).toEqual({ action: 'wait', reason: 'waiting for events-broker-1 to terminate' });
    expect(nextRestart(input([pod(0), pod(2)], { replicas: 3 }))).toEqual({ action: 'wait', reason: 'pods 1 do not exist yet' });
  });

  it('asks the replication health hook before each restart and reports when it refuses all', () => {
    const asked: string[] = [];
    const d = nextRestart(
      input([pod(0), pod(1), pod(2)], {
        canRestart: (p) => {
          asked.push(p.name);
          return p.ordinal === 1 ? { ok: true } : { ok: false, reason: 'orders-3 would drop below min.insync.replicas=2' };
        },
      }),
    );
    expect(asked).toEqual(['events-broker-2', 'events-broker-1']);
    expect(d).toMatchObject({ action: 'restart', pod: 'events-broker-1' });
    const none = nextRestart(input([pod(0)], { canRestart: () => ({ ok: false, reason: 'under-replicated' }) }));
    expect(none).toEqual({ action: 'blocked', reason: 'no broker can restart safely: events-broker-0: under-replicated' });
  });
});
