import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogError } from './errors.js';
import { ProducerStateManager, lastSequenceOf, type ProducerBatch } from './producer-state.js';
import { capturingLogger, makeTempDir } from './testing.js';
import { noFaults } from './types.js';

let tmp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.cleanup());

const INT32_MAX = 0x7fff_ffff;

function manager(producerIdsMax?: number): ProducerStateManager {
  return new ProducerStateManager(tmp.dir, { logger: capturingLogger(), faults: noFaults, ...(producerIdsMax ? { producerIdsMax } : {}) });
}

/** A tiny log: offsets assigned in order, each batch checked and committed on its own. */
class Harness {
  next = 0;
  constructor(readonly m: ProducerStateManager) {}
  send(producerId: bigint, epoch: number, seq: number, count = 1): { dup: boolean; first: number; last: number } {
    const b: ProducerBatch = {
      producerId,
      producerEpoch: epoch,
      baseSequence: seq,
      lastOffsetDelta: count - 1,
      baseOffset: this.next,
      lastOffset: this.next + count - 1,
      maxTimestamp: 1000 + this.next,
    };
    const append = this.m.beginAppend();
    const dup = append.findDuplicate(b);
    if (dup !== null) return { dup: true, first: dup.firstOffset, last: dup.lastOffset };
    append.checkAndStage(b);
    append.commit();
    this.next += count;
    return { dup: false, first: b.baseOffset, last: b.lastOffset };
  }
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof LogError) return e.code;
    throw e;
  }
  return 'NONE';
}

describe('producer state', () => {
  it('wraps the last sequence past int32 max to 0', () => {
    expect(lastSequenceOf(5, 3)).toBe(8);
    expect(lastSequenceOf(INT32_MAX, 0)).toBe(INT32_MAX);
    expect(lastSequenceOf(INT32_MAX, 1)).toBe(0);
    expect(lastSequenceOf(INT32_MAX - 1, 3)).toBe(1);
  });

  it('recognises a retry of any of the last 5 batches and answers its original offsets', () => {
    const h = new Harness(manager());
    const sent = [0, 2, 4, 6, 8, 10].map((seq) => h.send(7n, 0, seq, 2));
    // The oldest of the six fell out of the cache; the other five are duplicates.
    for (let i = 1; i < 6; i++) {
      expect(h.send(7n, 0, i * 2, 2)).toEqual({ dup: true, first: sent[i]!.first, last: sent[i]!.last });
    }
    expect(codeOf(() => h.send(7n, 0, 0, 2))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    // Same first sequence but a different range is not a duplicate.
    expect(codeOf(() => h.send(7n, 0, 10, 1))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
  });

  it('rejects a gap or a step back in sequence', () => {
    const h = new Harness(manager());
    h.send(1n, 0, 0, 3);
    expect(codeOf(() => h.send(1n, 0, 4))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(codeOf(() => h.send(1n, 0, 2))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(h.send(1n, 0, 3).dup).toBe(false);
  });

  it('accepts the wrap from int32 max to 0', () => {
    const h = new Harness(manager());
    h.send(1n, 0, INT32_MAX - 1, 2);
    expect(h.send(1n, 0, 0).dup).toBe(false);
  });

  it('fences an older epoch and requires sequence 0 in a new one', () => {
    const h = new Harness(manager());
    h.send(1n, 3, 0, 2);
    expect(codeOf(() => h.send(1n, 2, 2))).toBe('INVALID_PRODUCER_EPOCH');
    expect(codeOf(() => h.send(1n, 4, 5))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(h.send(1n, 4, 0).dup).toBe(false);
    // The bump cleared the old epoch's batches: its retry is now fenced, not a duplicate.
    expect(codeOf(() => h.send(1n, 3, 0, 2))).toBe('INVALID_PRODUCER_EPOCH');
  });

  it('accepts any sequence from a producer it has no state for (Kafka 2.5+)', () => {
    const h = new Harness(manager());
    expect(h.send(9n, 0, 42).dup).toBe(false);
    expect(codeOf(() => h.send(9n, 0, 44))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
  });

  it('checks later batches of one append against the earlier ones, and changes nothing until commit', () => {
    const m = manager();
    const append = m.beginAppend();
    append.checkAndStage({ producerId: 1n, producerEpoch: 0, baseSequence: 0, lastOffsetDelta: 1, baseOffset: 0, lastOffset: 1, maxTimestamp: 1 });
    expect(() =>
      append.checkAndStage({ producerId: 1n, producerEpoch: 0, baseSequence: 3, lastOffsetDelta: 0, baseOffset: 2, lastOffset: 2, maxTimestamp: 1 }),
    ).toThrow(LogError);
    expect(m.get(1n)).toBeUndefined();
    append.checkAndStage({ producerId: 1n, producerEpoch: 0, baseSequence: 2, lastOffsetDelta: 0, baseOffset: 2, lastOffset: 2, maxTimestamp: 1 });
    append.commit();
    expect(m.get(1n)?.batches.map((b) => [b.firstSeq, b.lastSeq])).toEqual([
      [0, 1],
      [2, 2],
    ]);
  });

  it('evicts the least recently appending producer beyond its cap', () => {
    const h = new Harness(manager(2));
    h.send(1n, 0, 0);
    h.send(2n, 0, 0);
    h.send(1n, 0, 1);
    h.send(3n, 0, 0);
    expect(h.m.get(2n)).toBeUndefined();
    expect(h.m.get(1n)).toBeDefined();
    expect(h.m.get(3n)).toBeDefined();
  });

  describe('snapshots', () => {
    it('round-trip the state', () => {
      const h = new Harness(manager());
      for (let i = 0; i < 7; i++) h.send(5n, 2, i);
      h.send(12345678901n, 0, INT32_MAX);
      h.m.takeSnapshot(h.next);
      const m2 = manager();
      expect(m2.loadLatestSnapshot(1_000)).toBe(h.next);
      expect([...m2.entries()]).toEqual([...h.m.entries()]);
      const h2 = new Harness(m2);
      h2.next = h.next;
      expect(h2.send(5n, 2, 6)).toEqual({ dup: true, first: 6, last: 6 });
      expect(h2.send(12345678901n, 0, 0).dup).toBe(false);
    });

    it('take the newest at or below the offset, skipping and deleting an unreadable one', () => {
      const h = new Harness(manager());
      h.send(1n, 0, 0);
      h.m.takeSnapshot(1);
      h.send(1n, 0, 1);
      h.m.takeSnapshot(2);
      h.send(1n, 0, 2);
      h.m.takeSnapshot(3);
      const file2 = path.join(tmp.dir, '00000000000000000002.snapshot');
      const bytes = readFileSync(file2);
      bytes[bytes.length - 1]! ^= 1;
      writeFileSync(file2, bytes);
      const m2 = manager();
      expect(m2.loadLatestSnapshot(2)).toBe(1);
      expect(m2.get(1n)?.batches.at(-1)?.lastSeq).toBe(0);
      expect(m2.snapshotOffsets()).toEqual([1, 3]);
    });

    it('reject truncated, mis-versioned or padded files', () => {
      const m = manager();
      new Harness(m).send(1n, 0, 0);
      const good = m.encodeSnapshot(1);
      expect(ProducerStateManager.decodeSnapshot(good, 'x').entries).toHaveLength(1);
      expect(() => ProducerStateManager.decodeSnapshot(good.subarray(0, good.length - 1), 'x')).toThrow(/CRC|past/);
      const v2 = Buffer.from(good);
      v2.writeUInt16BE(2, 4);
      expect(() => ProducerStateManager.decodeSnapshot(v2, 'x')).toThrow(/version/);
      expect(() => ProducerStateManager.decodeSnapshot(Buffer.concat([good, Buffer.alloc(1)]), 'x')).toThrow(/CRC/);
    });
  });
});
