// Helpers for the log's tests: temporary directories, batches, a controllable clock, a logger that
// remembers. Not used by the broker.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBatch, iterateBatches, type BuildBatchInput } from '../protocol/records/index.js';
import { DEFAULT_LOG_CONFIG, type LogConfig, type LogLogger } from './types.js';

export function makeTempDir(prefix = 'strata-log-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...DEFAULT_LOG_CONFIG, ...overrides };
}

export class TestClock {
  constructor(public nowMs = 1_700_000_000_000) {}
  readonly fn = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export interface LoggedLine {
  level: 'info' | 'warn';
  msg: string;
  fields: Record<string, unknown> | undefined;
}

export function capturingLogger(): LogLogger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  return {
    lines,
    info: (msg, fields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, fields }),
  };
}

export interface TestBatchOptions extends Partial<Omit<BuildBatchInput, 'records'>> {
  /** Records in the batch (default 1). */
  count?: number;
  /** Bytes per value (default 10). */
  valueBytes?: number;
  /** Timestamp of every record (default: baseTimestamp or 1_700_000_000_000). */
  timestampMs?: number;
  /** Value prefix, to tell batches apart. */
  tag?: string;
}

/** A client-style batch (base offset 0) with `count` records. */
export function makeBatch(o: TestBatchOptions = {}): Buffer {
  const count = o.count ?? 1;
  const ts = BigInt(o.timestampMs ?? 1_700_000_000_000);
  const valueBytes = o.valueBytes ?? 10;
  const tag = o.tag ?? 'v';
  const records = Array.from({ length: count }, (_, i) => {
    const text = `${tag}-${i}-`;
    const value = Buffer.alloc(Math.max(valueBytes, text.length), '.');
    value.write(text);
    return { key: Buffer.from(`k${i}`), value, timestamp: ts };
  });
  const { count: _c, valueBytes: _v, timestampMs: _t, tag: _g, ...rest } = o;
  return buildBatch({ baseTimestamp: ts, ...rest, records });
}

/** (baseOffset, lastOffset, size) of each batch in a blob. */
export function batchSpans(buf: Buffer): { baseOffset: number; lastOffset: number; size: number }[] {
  return [...iterateBatches(buf)].map((b) => ({
    baseOffset: Number(b.header.baseOffset),
    lastOffset: Number(b.header.baseOffset) + b.header.lastOffsetDelta,
    size: b.header.size,
  }));
}
