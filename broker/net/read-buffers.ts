// Reusable buffers for the bytes a response carries straight from disk (Fetch record data).
//
// A fast consumer makes the broker read about a gigabyte a second from segment files. With a fresh
// Buffer per read, allocating those buffers and collecting them took a third of the broker's CPU
// (docs/performance.md). Here reads of at least MIN_POOLED_BYTES take a block of BLOCK_BYTES from a
// free list instead, and the block goes back once the response that carries it has been written to
// the socket, or dropped. A lease collects the blocks of one request so they are returned together.
//
// The one rule that keeps this safe: a lease is released only when nothing can read its buffers any
// more. The connection releases it from the socket's write callback of the response's last chunk
// (writes complete in order, and the callback runs once the kernel has the bytes, or the socket has
// been destroyed), or at once when no response is written.
import assert from 'node:assert/strict';

/** One block: a pooled read of up to this many bytes takes a whole block. */
export const BLOCK_BYTES = 1024 * 1024;
/** Smaller reads are cheap to allocate (and waste a block's memory while in flight), so they are not pooled. */
export const MIN_POOLED_BYTES = 64 * 1024;

export class ReadBufferPool {
  private readonly free: Buffer[] = [];
  private created = 0;
  private leased = 0;

  /** `maxRetainedBlocks` bounds the memory the free list keeps between requests. */
  constructor(readonly maxRetainedBlocks: number) {
    assert.ok(Number.isSafeInteger(maxRetainedBlocks) && maxRetainedBlocks >= 0, `maxRetainedBlocks ${maxRetainedBlocks}`);
  }

  lease(): BufferLease {
    return new BufferLease(this);
  }

  /** Blocks handed out and not yet returned. */
  get leasedBlocks(): number {
    return this.leased;
  }

  /** Blocks ever allocated; with `leasedBlocks`, shows whether blocks are reused. */
  get createdBlocks(): number {
    return this.created;
  }

  /** @internal */
  take(): Buffer {
    this.leased++;
    const block = this.free.pop();
    if (block !== undefined) return block;
    this.created++;
    // Not from Node's small-buffer slab: a block must own its memory to be reused safely.
    return Buffer.allocUnsafeSlow(BLOCK_BYTES);
  }

  /** @internal */
  give(block: Buffer): void {
    assert.equal(block.length, BLOCK_BYTES, 'only whole blocks come back');
    this.leased--;
    assert.ok(this.leased >= 0, 'a block came back twice');
    if (this.free.length < this.maxRetainedBlocks) this.free.push(block);
  }
}

/** The blocks of one request. `alloc` is what the log reads into. */
export class BufferLease {
  private blocks: Buffer[] | undefined;
  private released = false;

  constructor(private readonly pool: ReadBufferPool) {}

  /** A buffer of exactly `bytes` bytes, uninitialised. */
  readonly alloc = (bytes: number): Buffer => {
    assert.ok(!this.released, 'a released lease cannot allocate');
    if (bytes < MIN_POOLED_BYTES || bytes > BLOCK_BYTES) return Buffer.allocUnsafe(bytes);
    const block = this.pool.take();
    (this.blocks ??= []).push(block);
    return block.subarray(0, bytes);
  };

  /** Returns the blocks; every buffer `alloc` gave out must be unreachable by then. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.blocks === undefined) return;
    for (const b of this.blocks) this.pool.give(b);
    this.blocks = undefined;
  }
}
