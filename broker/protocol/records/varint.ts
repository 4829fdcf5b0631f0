// Zig-zag varints as used inside v2 records (lengths, deltas, counts). These are the signed kind only;
// the unsigned varints of flexible request versions belong to the request codec, not to records.
//
// Readers work on a cursor whose `end` bounds every read, so a record can never read into its
// neighbour or past the buffer: truncation and over-long encodings fail as CorruptRecordError.

import { CorruptRecordError } from './errors.js';

/** A read position over `buf`; reads never touch bytes at or past `end`. */
export interface ByteCursor {
  buf: Buffer;
  pos: number;
  end: number;
}

export function cursor(buf: Buffer, pos = 0, end = buf.length): ByteCursor {
  return { buf, pos, end };
}

// An int32 needs at most 5 groups of 7 bits, an int64 at most 10. Anything longer is corrupt, and the
// bound also stops a run of 0x80 bytes from making us walk the whole buffer.
export const MAX_VARINT_BYTES = 5;
export const MAX_VARLONG_BYTES = 10;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function truncated(what: string, c: ByteCursor): CorruptRecordError {
  return new CorruptRecordError(`truncated ${what} at byte ${c.pos} (${c.end - c.pos} bytes left)`);
}

/** Reads a zig-zag varint holding an int32. */
export function readVarint(c: ByteCursor): number {
  const { buf, end } = c;
  let pos = c.pos;
  let raw = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= end) throw truncated('varint', c);
    const b = buf[pos++]!;
    if (i === 4) {
      // The fifth byte carries bits 28..31; higher bits or a continuation mean the value does not fit
      // an int32. Kafka's reader silently drops such bits; Strata rejects them rather than guess.
      if (b > 0x0f) throw new CorruptRecordError(`varint at byte ${c.pos} overflows 32 bits`);
      raw = (raw | (b << 28)) >>> 0;
    } else {
      raw |= (b & 0x7f) << (7 * i);
      if (b < 0x80) break;
    }
  }
  c.pos = pos;
  return (raw >>> 1) ^ -(raw & 1);
}

/** Reads a zig-zag varlong holding an int64. */
export function readVarlong(c: ByteCursor): bigint {
  const { buf, end } = c;
  let pos = c.pos;
  // Deltas are almost always small: decode up to four bytes (28 bits) with number arithmetic and only
  // fall back to bigint for wider values.
  let low = 0;
  for (let i = 0; i < 4; i++) {
    if (pos >= end) throw truncated('varlong', c);
    const b = buf[pos++]!;
    low |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      c.pos = pos;
      return BigInt((low >>> 1) ^ -(low & 1));
    }
  }
  let raw = BigInt(low);
  for (let i = 4; i < MAX_VARLONG_BYTES; i++) {
    if (pos >= end) throw truncated('varlong', c);
    const b = buf[pos++]!;
    if (i === 9) {
      // The tenth byte holds only bit 63.
      if (b > 0x01) throw new CorruptRecordError(`varlong at byte ${c.pos} overflows 64 bits`);
      raw |= BigInt(b) << 63n;
      break;
    }
    raw |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) break;
  }
  c.pos = pos;
  return (raw >> 1n) ^ -(raw & 1n);
}

function checkInt32(value: number): void {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new RangeError(`varint value ${value} is not an int32`);
  }
}

function checkInt64(value: bigint): void {
  if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`varlong value ${value} is not an int64`);
}

/** Encoded size of `value` as a zig-zag varint. */
export function sizeOfVarint(value: number): number {
  checkInt32(value);
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (raw >= 0x80) {
    raw >>>= 7;
    n++;
  }
  return n;
}

/** Encoded size of `value` as a zig-zag varlong. */
export function sizeOfVarlong(value: bigint): number {
  checkInt64(value);
  if (value >= -0x80000000n && value <= 0x7fffffffn) return sizeOfVarint(Number(value));
  let raw = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  let n = 1;
  while (raw >= 0x80n) {
    raw >>= 7n;
    n++;
  }
  return n;
}

/** Writes `value` at `offset`; returns the offset after it. The caller sizes `buf` (see sizeOfVarint). */
export function writeVarint(buf: Buffer, offset: number, value: number): number {
  checkInt32(value);
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  while (raw >= 0x80) {
    buf[offset++] = (raw & 0x7f) | 0x80;
    raw >>>= 7;
  }
  buf[offset++] = raw;
  return offset;
}

/** Writes `value` at `offset`; returns the offset after it. The caller sizes `buf` (see sizeOfVarlong). */
export function writeVarlong(buf: Buffer, offset: number, value: bigint): number {
  checkInt64(value);
  // Zig-zag of an int32 is the same bit pattern in 32 or 64 bits, so the number path serves.
  if (value >= -0x80000000n && value <= 0x7fffffffn) return writeVarint(buf, offset, Number(value));
  let raw = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  while (raw >= 0x80n) {
    buf[offset++] = Number(raw & 0x7fn) | 0x80;
    raw >>= 7n;
  }
  buf[offset++] = Number(raw);
  return offset;
}
