import { describe, expect, it } from 'vitest';
import { nodesToRead, rackSteps, type RackPod } from './rack.js';

const ZONE = 'topology.kubernetes.io/zone';
const pod = (name: string, nodeName: string | undefined, rack?: string, terminating = false): RackPod => ({ name, uid: `uid-${name}`, nodeName, rack, terminating });

describe('rack awareness: which pods get their node\'s rack', () => {
  it('annotates each scheduled pod without a rack with its node\'s label, in name order', () => {
    const pods = [pod('c-broker-1', 'node-b'), pod('c-broker-0', 'node-a')];
    const labels = new Map<string, Record<string, string>>([
      ['node-a', { [ZONE]: 'zone-1' }],
      ['node-b', { [ZONE]: 'zone-2', other: 'x' }],
    ]);
    expect(rackSteps(pods, labels, ZONE)).toEqual([
      { action: 'annotate', pod: 'c-broker-0', uid: 'uid-c-broker-0', rack: 'zone-1' },
      { action: 'annotate', pod: 'c-broker-1', uid: 'uid-c-broker-1', rack: 'zone-2' },
    ]);
  });

  it('leaves unscheduled, terminating and already annotated pods alone, and reads only the nodes it needs', () => {
    const pods = [pod('c-broker-0', undefined), pod('c-broker-1', 'node-a', 'zone-9'), pod('c-broker-2', 'node-b', undefined, true), pod('c-broker-3', 'node-c')];
    expect(nodesToRead(pods)).toEqual(['node-c']);
    expect(rackSteps(pods, new Map([['node-c', { [ZONE]: 'zone-3' }]]), ZONE)).toEqual([{ action: 'annotate', pod: 'c-broker-3', uid: 'uid-c-broker-3', rack: 'zone-3' }]);
  });

  it('reports a node without the label, or gone, instead of writing an empty rack', () => {
    const pods = [pod('c-broker-0', 'node-a'), pod('c-broker-1', 'node-gone'), pod('c-broker-2', 'node-empty')];
    const labels = new Map<string, Record<string, string> | undefined>([
      ['node-a', { 'kubernetes.io/hostname': 'node-a' }],
      ['node-gone', undefined],
      ['node-empty', { [ZONE]: '' }],
    ]);
    expect(rackSteps(pods, labels, ZONE)).toEqual([
      { action: 'missing', pod: 'c-broker-0', node: 'node-a' },
      { action: 'missing', pod: 'c-broker-1', node: 'node-gone' },
      { action: 'missing', pod: 'c-broker-2', node: 'node-empty' },
    ]);
  });
});
