import { describe, expect, it } from 'vitest';
import { effectiveMinIsr, notEnoughReplicasProblem } from './min-isr.js';

describe('min.insync.replicas on produce', () => {
  it('caps min.insync.replicas at the replica count, as Kafka 3.7+ does', () => {
    expect(effectiveMinIsr(2, 1)).toBe(1);
    expect(effectiveMinIsr(2, 3)).toBe(2);
    expect(effectiveMinIsr(1, 3)).toBe(1);
  });

  it('refuses acks=-1 only, when the ISR is below the effective minimum', () => {
    expect(notEnoughReplicasProblem(-1, [1], 3, 2, 't-0')).toBe('The size of the current ISR [1] is insufficient to satisfy the min.isr requirement of 2 for partition t-0');
    expect(notEnoughReplicasProblem(1, [1], 3, 2, 't-0')).toBeNull();
    expect(notEnoughReplicasProblem(0, [1], 3, 2, 't-0')).toBeNull();
    expect(notEnoughReplicasProblem(-1, [1, 2], 3, 2, 't-0')).toBeNull();
    // A single replica always satisfies it, whatever min.insync.replicas says.
    expect(notEnoughReplicasProblem(-1, [1], 1, 2, 't-0')).toBeNull();
  });
});
