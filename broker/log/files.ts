// Small synchronous file helpers shared by the log: whole writes and reads at a position, atomic
// replacement of small files, and Kafka-style text checkpoints.
//
// Atomic replacement is write to `<name>.tmp`, fsync, rename over `<name>`, fsync the directory: after
// a crash the file holds the old or the new content, never a mix. Loading deletes stray `.tmp` files.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { FaultInjector } from './types.js';

export const TMP_SUFFIX = '.tmp';

/** Writes all of `data` at `position` (writeSync may write less than asked). */
export function writeFully(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) {
    const n = writeSync(fd, data, done, data.length - done, position + done);
    if (n <= 0) throw new Error(`write at byte ${position + done} made no progress`);
    done += n;
  }
}

/** Reads up to `length` bytes at `position`; fewer only at end of file. */
export function readAt(fd: number, position: number, length: number, into?: Buffer): Buffer {
  const buf = into ?? Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === buf.length ? buf : buf.subarray(0, done);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `dir/name` with `data`, durably and atomically. */
export function writeFileAtomic(dir: string, name: string, data: Uint8Array | string, faults: FaultInjector): void {
  faults('checkpoint', name);
  const final = path.join(dir, name);
  const tmp = final + TMP_SUFFIX;
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    writeFully(fd, bytes, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
  fsyncDir(dir);
}

export function unlinkIfExists(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** A checkpoint file that exists but does not parse. */
export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
  readonly code = 'CHECKPOINT_MALFORMED';
}

const CHECKPOINT_VERSION = 0;

/**
 * Kafka's checkpoint text format: a version line (0), a count line, then one entry per line with
 * space-separated integers. Returns null when the file does not exist.
 */
export function readCheckpointLines(file: string, fieldsPerEntry: number, entriesMax: number): number[][] | null {
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const bad = (why: string) => new CheckpointFormatError(`${file}: ${why}`);
  if (lines.length < 2) throw bad('fewer than 2 lines');
  if (lines[0] !== String(CHECKPOINT_VERSION)) throw bad(`version line is '${lines[0]}', expected ${CHECKPOINT_VERSION}`);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count < 0 || count > entriesMax) throw bad(`entry count '${lines[1]}' is not in [0, ${entriesMax}]`);
  if (lines.length !== count + 2) throw bad(`declares ${count} entries but has ${lines.length - 2}`);
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    const parts = lines[i + 2]!.split(' ');
    if (parts.length !== fieldsPerEntry) throw bad(`line ${i + 3} has ${parts.length} fields, expected ${fieldsPerEntry}`);
    const values = parts.map(Number);
    if (values.some((v, j) => !Number.isSafeInteger(v) || parts[j] === '')) throw bad(`line ${i + 3} is not integers: '${lines[i + 2]}'`);
    out.push(values);
  }
  return out;
}

export function formatCheckpoint(entries: readonly (readonly number[])[]): string {
  return [String(CHECKPOINT_VERSION), String(entries.length), ...entries.map((e) => e.join(' '))].join('\n') + '\n';
}

/** A checkpoint holding one offset. Returns null when absent. */
export function readOffsetCheckpoint(file: string): number | null {
  const entries = readCheckpointLines(file, 1, 1);
  if (entries === null) return null;
  const v = entries[0]?.[0];
  if (v === undefined || v < 0) throw new CheckpointFormatError(`${file}: expected exactly one non-negative offset`);
  return v;
}

export function writeOffsetCheckpoint(dir: string, name: string, offset: number, faults: FaultInjector): void {
  writeFileAtomic(dir, name, formatCheckpoint([[offset]]), faults);
}
