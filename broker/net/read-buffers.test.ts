// The read-buffer pool: which reads it serves, that blocks come back and are reused, and its bound.
// The connection tests check when a lease is released relative to the socket write.
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, MIN_POOLED_BYTES, ReadBufferPool } from './read-buffers.js';

describe('ReadBufferPool', () => {
  it('serves reads between MIN_POOLED_BYTES and BLOCK_BYTES from blocks, others from fresh buffers', () => {
    const pool = new ReadBufferPool(4);
    const lease = pool.lease();
    expect(lease.alloc(MIN_POOLED_BYTES - 1).length).toBe(MIN_POOLED_BYTES - 1);
    expect(lease.alloc(BLOCK_BYTES + 1).length).toBe(BLOCK_BYTES + 1);
    expect(pool.leasedBlocks).toBe(0);
    const a = lease.alloc(MIN_POOLED_BYTES);
    const b = lease.alloc(BLOCK_BYTES);
    expect([a.length, b.length]).toEqual([MIN_POOLED_BYTES, BLOCK_BYTES]);
    expect(a.buffer).not.toBe(b.buffer);
    expect(pool.leasedBlocks).toBe(2);
    lease.release();
    expect(pool.leasedBlocks).toBe(0);
  });

  it('reuses a returned block, and never hands one out twice while leased', () => {
    const pool = new ReadBufferPool(4);
    const first = pool.lease();
    const x = first.alloc(100_000);
    const second = pool.lease();
    const y = second.alloc(100_000);
    expect(y.buffer).not.toBe(x.buffer);
    first.release();
    const third = pool.lease();
    expect(third.alloc(200_000).buffer).toBe(x.buffer);
    expect(pool.createdBlocks).toBe(2);
    second.release();
    third.release();
  });

  it('keeps at most maxRetainedBlocks between requests', () => {
    const pool = new ReadBufferPool(1);
    const lease = pool.lease();
    const blocks = [lease.alloc(MIN_POOLED_BYTES), lease.alloc(MIN_POOLED_BYTES), lease.alloc(MIN_POOLED_BYTES)];
    lease.release();
    const next = pool.lease();
    const reused = [next.alloc(MIN_POOLED_BYTES), next.alloc(MIN_POOLED_BYTES)];
    // One block was kept; the second allocation needed a new one.
    expect(blocks.map((b) => b.buffer)).toContain(reused[0]!.buffer);
    expect(blocks.map((b) => b.buffer)).not.toContain(reused[1]!.buffer);
    expect(pool.createdBlocks).toBe(4);
    next.release();
  });

  it('releases once, and refuses to allocate from a released lease', () => {
    const pool = new ReadBufferPool(2);
    const lease = pool.lease();
    lease.alloc(MIN_POOLED_BYTES);
    lease.release();
    lease.release();
    expect(pool.leasedBlocks).toBe(0);
    expect(() => lease.alloc(10)).toThrow(/released lease/);
  });
});
