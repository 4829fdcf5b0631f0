// The background compaction loop: one log at a time, each pass cut into chunks with a pause between
// them (a turn of the event loop, and a sleep when log.cleaner.io.max.bytes.per.second says so), so
// that produce and fetch on every partition go on while a large log is compacted. The pass itself is
// PartitionLog.compact(); the rules are in broker/log/cleaner.ts.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';
import type { TopicRegistry } from '../cluster/topics.js';
import type { CompactionResult } from '../log/index.js';

export interface LogCleanerOptions {
  topics: TopicRegistry;
  log: Logger;
  /** log.cleaner.backoff.ms: the sleep after a round in which no log was compacted. */
  backoffMs: number;
  /** log.cleaner.dedupe.buffer.size: bytes for a pass's key map, 24 per key as Kafka counts. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.max.bytes.per.second. */
  ioMaxBytesPerSecond: number;
  onCompacted?: (topic: string, partition: number, r: CompactionResult) => void;
}

const BYTES_PER_MAP_ENTRY = 24;

class Stopped extends Error {}

export class LogCleaner {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Read budget of the I/O throttle: when the current window started and what it has read. */
  private windowStartMs = Date.now();
  private windowBytes = 0;

  constructor(private readonly opts: LogCleanerOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops after the current chunk; a pass cut short leaves its log as it was. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  /** Runs a round now instead of after the backoff (tests, and after a config change). */
  poke(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let cleaned = 0;
      try {
        cleaned = await this.round();
      } catch (e) {
        if (e instanceof Stopped) return;
        this.opts.log.error('log cleaner round failed', { err: e });
      }
      if (this.stopped) return;
      if (cleaned === 0) {
        const controller = new AbortController();
        this.wake = () => controller.abort();
        await sleep(this.opts.backoffMs, undefined, { signal: controller.signal }).catch(() => {});
        this.wake = undefined;
      }
    }
  }

  /** One pass over every partition; returns how many were compacted. */
  private async round(): Promise<number> {
    let cleaned = 0;
    for (const t of this.opts.topics.all()) {
      for (const p of t.partitions) {
        // A log in an offline directory is left alone until the next start.
        if (p.offline) continue;
        if (this.stopped) throw new Stopped();
        try {
          const r = await p.log.compact({ maxMapEntries: Math.floor(this.opts.dedupeBufferBytes / BYTES_PER_MAP_ENTRY), pace: (n) => this.pace(n) });
          if (r !== null) {
            cleaned++;
            this.opts.onCompacted?.(t.name, p.index, r);
          }
        } catch (e) {
          if (e instanceof Stopped) throw e;
          this.opts.log.error('compaction failed', { topic: t.name, partition: p.index, err: e });
        }
      }
    }
    return cleaned;
  }

  /** Between chunks: yield the event loop, and sleep as long as the I/O limit asks. */
  private async pace(bytes: number): Promise<void> {
    await nextTurn();
    if (this.stopped) throw new Stopped();
    const limit = this.opts.ioMaxBytesPerSecond;
    if (!Number.isFinite(limit) || limit >= Number.MAX_VALUE) return;
    const now = Date.now();
    if (now - this.windowStartMs > 1000) {
      this.windowStartMs = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    const dueMs = (this.windowBytes / limit) * 1000 - (now - this.windowStartMs);
    if (dueMs > 0) await sleep(Math.min(dueMs, 10_000));
    if (this.stopped) throw new Stopped();
  }
}
