// Record batch v2 (magic 2): the unit Strata receives from producers, stores, and serves to consumers.
//
//   offset  size  field
//        0     8  baseOffset            outside the CRC, like partitionLeaderEpoch: the broker assigns
//                                       both and patches them in place without recomputing the checksum
//        8     4  batchLength           bytes after this field (so total size = batchLength + 12)
//       12     4  partitionLeaderEpoch
//       16     1  magic                 2
//       17     4  crc                   CRC-32C of bytes 21 .. end
//       21     2  attributes            bits 0-2 codec, 3 LogAppendTime, 4 transactional, 5 control,
//                                       6 baseTimestamp holds the delete horizon
//       23     4  lastOffsetDelta
//       27     8  baseTimestamp
//       35     8  maxTimestamp
//       43     8  producerId
//       51     2  producerEpoch
//       53     4  baseSequence
//       57     4  recordCount
//       61     …  records, or one compressed blob holding them
//
// Everything read from the wire is bounded by the bytes actually present: a length, count or size
// claimed by the batch is checked against what is left before anything is sliced or allocated.

import { crc32c } from './crc32c.js';
import { CompressionCodec, compress, decompress, isSupportedCodec } from './compression.js';
import { CorruptRecordError, UnsupportedCompressionError } from './errors.js';
import { type ByteCursor, readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

export const BatchField = {
  BaseOffset: 0,
  BatchLength: 8,
  PartitionLeaderEpoch: 12,
  Magic: 16,
  Crc: 17,
  Attributes: 21,
  LastOffsetDelta: 23,
  BaseTimestamp: 27,
  MaxTimestamp: 35,
  ProducerId: 43,
  ProducerEpoch: 51,
  BaseSequence: 53,
  RecordCount: 57,
} as const;

/** Size of the v2 header; the records start here. */
export const RECORD_BATCH_OVERHEAD = 61;
/** baseOffset + batchLength: the prefix that batchLength does not count. */
export const LOG_OVERHEAD = 12;
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;
export const RECORD_BATCH_MAGIC = 2;

export const BatchAttribute = {
  CompressionMask: 0x07,
  LogAppendTime: 0x08,
  Transactional: 0x10,
  Control: 0x20,
  DeleteHorizon: 0x40,
} as const;

export const TimestampType = {
  CreateTime: 0,
  LogAppendTime: 1,
} as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

// Smallest record: a 1-byte length, then attributes, timestampDelta, offsetDelta, keyLength,
// valueLength and headerCount at one byte each. Bounds recordCount before any per-record work.
const MIN_RECORD_BODY_BYTES = 6;
const MIN_RECORD_BYTES = 1 + MIN_RECORD_BODY_BYTES;
// Smallest header: empty key (1-byte length) and null value (1-byte -1).
const MIN_HEADER_BYTES = 2;

export interface RecordBatchHeader {
  baseOffset: bigint;
  batchLength: number;
  /** Total bytes of the batch, batchLength + 12. */
  size: number;
  partitionLeaderEpoch: number;
  magic: 2;
  /** CRC stored in the batch (unsigned). */
  crc: number;
  attributes: number;
  /** Codec id from attributes bits 0-2; 5-7 are not valid but are reported, not rejected, here. */
  compression: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  /**
   * Set by log compaction: baseTimestamp then holds the delete horizon, and record timestamp deltas
   * are relative to it, so record timestamps still come out as baseTimestamp + delta.
   */
  hasDeleteHorizonMs: boolean;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface ParseBatchOptions {
  /** Check the CRC (default true). The fetch path, which only forwards stored bytes, can skip it. */
  verifyCrc?: boolean;
}

/** One complete batch inside a larger buffer. */
export interface RecordBatch {
  header: RecordBatchHeader;
  /** Byte position of the batch in the buffer it was found in. */
  position: number;
  /** The batch's own bytes (a view, not a copy). */
  bytes: Buffer;
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  attributes: number;
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** baseOffset + offsetDelta. */
  offset: bigint;
  /** baseTimestamp + timestampDelta, or the batch's maxTimestamp under LogAppendTime. */
  timestamp: bigint;
}

function corrupt(message: string): CorruptRecordError {
  return new CorruptRecordError(message);
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/**
 * Checks what the first bytes of a batch at `offset` allow: the magic (when present) and batchLength.
 * Returns the batch's total size, which may exceed what `buf` holds.
 */
function checkBatchPrefix(buf: Buffer, offset: number): number {
  const available = buf.length - offset;
  if (available > BatchField.Magic) {
    const magic = buf.readInt8(offset + BatchField.Magic);
    if (magic !== RECORD_BATCH_MAGIC) {
      const legacy = magic === 0 || magic === 1 ? ' (a legacy message set)' : '';
      throw corrupt(`record batch at byte ${offset} has magic ${magic}${legacy}; Strata reads only magic 2`);
    }
  }
  const batchLength = buf.readInt32BE(offset + BatchField.BatchLength);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw corrupt(
      `record batch at byte ${offset} has batchLength ${batchLength}, below the minimum ${MIN_BATCH_LENGTH} ` +
        `(a batch is at least its ${RECORD_BATCH_OVERHEAD}-byte header)`,
    );
  }
  return LOG_OVERHEAD + batchLength;
}

function checkOffset(buf: Buffer, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw new RangeError(`offset ${offset} is outside a buffer of ${buf.length} bytes`);
  }
}

/** Parses and validates the header of the batch at `offset`. Throws CorruptRecordError. */
export function parseBatchHeader(buf: Buffer, offset = 0, opts: ParseBatchOptions = {}): RecordBatchHeader {
  checkOffset(buf, offset);
  const available = buf.length - offset;
  if (available < LOG_OVERHEAD) {
    throw corrupt(`record batch at byte ${offset}: ${available} bytes is too short for a ${RECORD_BATCH_OVERHEAD}-byte header`);
  }
  const size = checkBatchPrefix(buf, offset);
  if (size > available) {
    throw corrupt(`record batch at byte ${offset} declares ${size} bytes but the buffer holds only ${available}`);
  }
  const crc = buf.readUInt32BE(offset + BatchField.Crc);
  if (opts.verifyCrc !== false) {
    const actual = crc32c(buf.subarray(offset + BatchField.Attributes, offset + size));
    if (actual !== crc) {
      throw corrupt(`record batch at byte ${offset} fails its CRC: expected ${hex32(crc)} (stored), actual ${hex32(actual)} (computed)`);
    }
  }
  const attributes = buf.readInt16BE(offset + BatchField.Attributes);
  return {
    baseOffset: buf.readBigInt64BE(offset + BatchField.BaseOffset),
    batchLength: size - LOG_OVERHEAD,
    size,
    partitionLeaderEpoch: buf.readInt32BE(offset + BatchField.PartitionLeaderEpoch),
    magic: RECORD_BATCH_MAGIC,
    crc,
    attributes,
    compression: attributes & BatchAttribute.CompressionMask,
    timestampType: (attributes & BatchAttribute.LogAppendTime) !== 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & BatchAttribute.Transactional) !== 0,
    isControl: (attributes & BatchAttribute.Control) !== 0,
    hasDeleteHorizonMs: (attributes & BatchAttribute.DeleteHorizon) !== 0,
    lastOffsetDelta: buf.readInt32BE(offset + BatchField.LastOffsetDelta),
    baseTimestamp: buf.readBigInt64BE(offset + BatchField.BaseTimestamp),
    maxTimestamp: buf.readBigInt64BE(offset + BatchField.MaxTimestamp),
    producerId: buf.readBigInt64BE(offset + BatchField.ProducerId),
    producerEpoch: buf.readInt16BE(offset + BatchField.ProducerEpoch),
    baseSequence: buf.readInt32BE(offset + BatchField.BaseSequence),
    recordCount: buf.readInt32BE(offset + BatchField.RecordCount),
  };
}

/** CRC-32C over the batch at `offset` as it should be stored (the header's structure is checked first). */
export function computeBatchCrc(buf: Buffer, offset = 0): number {
  const header = parseBatchHeader(buf, offset, { verifyCrc: false });
  return crc32c(buf.subarray(offset + BatchField.Attributes, offset + header.size));
}

/** Throws CorruptRecordError unless the batch at `offset` is well formed and its CRC matches. */
export function verifyBatchCrc(buf: Buffer, offset = 0): void {
  parseBatchHeader(buf, offset, { verifyCrc: true });
}

/** The offset of the batch's last record (also right for empty batches, which keep lastOffsetDelta). */
export function batchLastOffset(header: RecordBatchHeader): bigint {
  return header.baseOffset + BigInt(header.lastOffsetDelta);
}

// ---------------------------------------------------------------------------------------------------
// Walking a records blob

/** An incomplete batch at the end of a blob, as fetch responses may carry when cut at max bytes. */
export interface PartialBatch {
  /** Byte position where the partial batch starts. */
  position: number;
  availableBytes: number;
  /** Total size the batch declares, or null when even its length field is cut off. */
  declaredBytes: number | null;
}

export interface IterateBatchesOptions extends ParseBatchOptions {
  /**
   * Largest batch accepted, complete or not. Without it a corrupt length near 2 GiB at the end of a
   * blob looks like a legitimate partial batch.
   */
  maxBatchBytes?: number;
}

/**
 * Iterates the complete batches of a blob. A trailing partial batch ends the iteration without an
 * error and is then described by `partial`; anything malformed throws CorruptRecordError.
 */
export class BatchIterator implements IterableIterator<RecordBatch> {
  /** Set once iteration has stopped at an incomplete trailing batch. */
  partial: PartialBatch | null = null;
  #pos: number;
  #done = false;
  readonly #buf: Buffer;
  readonly #opts: IterateBatchesOptions;

  constructor(buf: Buffer, opts: IterateBatchesOptions = {}) {
    this.#buf = buf;
    this.#opts = opts;
    this.#pos = 0;
  }

  /** Bytes taken by the complete batches returned so far. */
  get position(): number {
    return this.#pos;
  }

  next(): IteratorResult<RecordBatch, undefined> {
    if (this.#done) return { done: true, value: undefined };
    const buf = this.#buf;
    const pos = this.#pos;
    const available = buf.length - pos;
    if (available === 0) return this.#finish(null);
    if (available < LOG_OVERHEAD) {
      return this.#finish({ position: pos, availableBytes: available, declaredBytes: null });
    }
    const size = checkBatchPrefix(buf, pos);
    const max = this.#opts.maxBatchBytes;
    if (max !== undefined && size > max) {
      throw corrupt(`record batch at byte ${pos} declares ${size} bytes, more than the ${max}-byte limit`);
    }
    if (size > available) {
      return this.#finish({ position: pos, availableBytes: available, declaredBytes: size });
    }
    const header = parseBatchHeader(buf, pos, this.#opts);
    this.#pos = pos + size;
    return { done: false, value: { header, position: pos, bytes: buf.subarray(pos, pos + size) } };
  }

  [Symbol.iterator](): BatchIterator {
    return this;
  }

  #finish(partial: PartialBatch | null): IteratorResult<RecordBatch, undefined> {
    this.#done = true;
    this.partial = partial;
    return { done: true, value: undefined };
  }
}

/** Walks concatenated batches; see BatchIterator. */
export function iterateBatches(buf: Buffer, opts: IterateBatchesOptions = {}): BatchIterator {
  return new BatchIterator(buf, opts);
}

// ---------------------------------------------------------------------------------------------------
// Reading records

export interface ReadRecordsOptions {
  /** Upper bound on the decompressed records blob of a compressed batch. */
  maxDecompressedBytes: number;
}

function readBytes(c: ByteCursor, what: string): Buffer | null {
  const at = c.pos;
  const len = readVarint(c);
  if (len === -1) return null;
  if (len < 0) throw corrupt(`${what} length ${len} at byte ${at} is negative (only -1, meaning null, is allowed)`);
  if (len > c.end - c.pos) throw corrupt(`${what} length ${len} at byte ${at} runs past the record (${c.end - c.pos} bytes left)`);
  const out = c.buf.subarray(c.pos, c.pos + len);
  c.pos += len;
  return out;
}

function readRecord(c: ByteCursor, baseOffset: bigint, baseTimestamp: bigint, logAppendTime: bigint | null): DecodedRecord {
  const start = c.pos;
  const outerEnd = c.end;
  const length = readVarint(c);
  if (length < MIN_RECORD_BODY_BYTES || length > outerEnd - c.pos) {
    throw corrupt(
      `record at byte ${start} declares ${length} bytes; it needs at least ${MIN_RECORD_BODY_BYTES} ` +
        `and ${outerEnd - c.pos} remain`,
    );
  }
  const end = c.pos + length;
  // Every field read below stays inside this record's declared bytes.
  c.end = end;
  const attributes = c.buf.readInt8(c.pos++);
  const timestampDelta = readVarlong(c);
  const offsetDelta = readVarint(c);
  const key = readBytes(c, 'key');
  const value = readBytes(c, 'value');
  const headerCount = readVarint(c);
  if (headerCount < 0) throw corrupt(`record at byte ${start} has header count ${headerCount}`);
  if (headerCount > (end - c.pos) / MIN_HEADER_BYTES) {
    throw corrupt(`record at byte ${start} claims ${headerCount} headers but only ${end - c.pos} bytes remain for them`);
  }
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const at = c.pos;
    const keyLength = readVarint(c);
    if (keyLength < 0) throw corrupt(`header key length ${keyLength} at byte ${at} is negative (header keys cannot be null)`);
    if (keyLength > end - c.pos) throw corrupt(`header key length ${keyLength} at byte ${at} runs past the record`);
    const headerKey = c.buf.toString('utf8', c.pos, c.pos + keyLength);
    c.pos += keyLength;
    headers.push({ key: headerKey, value: readBytes(c, 'header value') });
  }
  if (c.pos !== end) {
    throw corrupt(`record at byte ${start} declares ${length} bytes but its fields end ${end - c.pos} bytes early`);
  }
  c.end = outerEnd;
  return {
    attributes,
    timestampDelta,
    offsetDelta,
    key,
    value,
    headers,
    offset: baseOffset + BigInt(offsetDelta),
    timestamp: logAppendTime ?? baseTimestamp + timestampDelta,
  };
}

/**
 * Decodes the records of one batch: a RecordBatch from iterateBatches (trusted as already checked),
 * or a Buffer starting with a batch (checked here, CRC included). Keys and values are views into the
 * batch bytes, or into the decompressed blob for compressed batches.
 */
export function readRecords(batch: RecordBatch | Buffer, opts: ReadRecordsOptions): DecodedRecord[] {
  let header: RecordBatchHeader;
  let bytes: Buffer;
  if (Buffer.isBuffer(batch)) {
    header = parseBatchHeader(batch, 0);
    bytes = batch;
  } else {
    header = batch.header;
    bytes = batch.bytes;
  }
  const count = header.recordCount;
  if (count < 0) throw corrupt(`record batch at offset ${header.baseOffset} has record count ${count}`);
  let body = bytes.subarray(RECORD_BATCH_OVERHEAD, header.size);
  if (header.compression !== CompressionCodec.None) {
    if (!isSupportedCodec(header.compression)) throw new UnsupportedCompressionError(header.compression);
    body = decompress(header.compression, body, opts.maxDecompressedBytes);
  }
  if (count > body.length / MIN_RECORD_BYTES) {
    throw corrupt(
      `record batch at offset ${header.baseOffset} claims ${count} records, more than ${body.length} bytes of records can hold`,
    );
  }
  const logAppendTime = header.timestampType === TimestampType.LogAppendTime ? header.maxTimestamp : null;
  const c: ByteCursor = { buf: body, pos: 0, end: body.length };
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    try {
      records.push(readRecord(c, header.baseOffset, header.baseTimestamp, logAppendTime));
    } catch (err) {
      if (err instanceof CorruptRecordError) {
        throw new CorruptRecordError(`record ${i} of batch at offset ${header.baseOffset}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  if (c.pos !== body.length) {
    throw corrupt(`record batch at offset ${header.baseOffset} has ${body.length - c.pos} bytes after its ${count} records`);
  }
  return records;
}

// ---------------------------------------------------------------------------------------------------
// Building batches (internal topics, tests)

export interface RecordHeaderInput {
  key: string;
  value: Uint8Array | null;
}

export interface RecordInput {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: readonly RecordHeaderInput[];
  /** Defaults to the batch's baseTimestamp. */
  timestamp?: bigint;
  /** Defaults to the record's index; must increase from record to record. */
  offsetDelta?: number;
}

export interface BuildBatchInput {
  baseOffset?: bigint;
  /** Defaults to -1, meaning not yet assigned; the leader stamps it on append. */
  partitionLeaderEpoch?: number;
  compression?: number;
  timestampType?: TimestampType;
  isTransactional?: boolean;
  isControl?: boolean;
  /** -1 (the default) for producers without idempotence. */
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the first record's timestamp, else the current time (-1 for an empty batch). */
  baseTimestamp?: bigint;
  /** Defaults to the largest record timestamp. Under LogAppendTime, pass the append time. */
  maxTimestamp?: bigint;
  /** Defaults to the last record's offsetDelta (0 for an empty batch). */
  lastOffsetDelta?: number;
  records: readonly RecordInput[];
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function checkInt(name: string, value: number, bits: 16 | 32): number {
  const limit = 2 ** (bits - 1);
  if (!Number.isInteger(value) || value < -limit || value >= limit) throw new RangeError(`${name} ${value} is not an int${bits}`);
  return value;
}

function checkInt64(name: string, value: bigint): bigint {
  if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`${name} ${value} is not an int64`);
  return value;
}

interface PlannedRecord {
  input: RecordInput;
  timestampDelta: bigint;
  offsetDelta: number;
  bodySize: number;
}

function plan(r: RecordInput, timestampDelta: bigint, offsetDelta: number): PlannedRecord {
  let size = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
  size += r.key === null ? 1 : sizeOfVarint(r.key.length) + r.key.length;
  size += r.value === null ? 1 : sizeOfVarint(r.value.length) + r.value.length;
  const headers = r.headers ?? [];
  size += sizeOfVarint(headers.length);
  for (const h of headers) {
    const keyBytes = Buffer.byteLength(h.key, 'utf8');
    size += sizeOfVarint(keyBytes) + keyBytes;
    size += h.value === null ? 1 : sizeOfVarint(h.value.length) + h.value.length;
  }
  return { input: r, timestampDelta, offsetDelta, bodySize: size };
}

function writeBytes(buf: Buffer, pos: number, data: Uint8Array | null): number {
  if (data === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, data.length);
  buf.set(data, pos);
  return pos + data.length;
}

function writeRecord(buf: Buffer, pos: number, p: PlannedRecord): number {
  pos = writeVarint(buf, pos, p.bodySize);
  buf[pos++] = 0; // record attributes: unused by the protocol
  pos = writeVarlong(buf, pos, p.timestampDelta);
  pos = writeVarint(buf, pos, p.offsetDelta);
  pos = writeBytes(buf, pos, p.input.key);
  pos = writeBytes(buf, pos, p.input.value);
  const headers = p.input.headers ?? [];
  pos = writeVarint(buf, pos, headers.length);
  for (const h of headers) {
    const keyBytes = Buffer.byteLength(h.key, 'utf8');
    pos = writeVarint(buf, pos, keyBytes);
    pos += buf.write(h.key, pos, keyBytes, 'utf8');
    pos = writeBytes(buf, pos, h.value);
  }
  return pos;
}

/** Encodes a complete v2 batch with its CRC set. Invalid arguments throw RangeError. */
export function buildBatch(input: BuildBatchInput): Buffer {
  const compression = input.compression ?? CompressionCodec.None;
  if (!isSupportedCodec(compression)) throw new UnsupportedCompressionError(compression);
  const timestampType = input.timestampType ?? TimestampType.CreateTime;
  if (timestampType !== TimestampType.CreateTime && timestampType !== TimestampType.LogAppendTime) {
    throw new RangeError(`timestampType ${String(timestampType)} is neither 0 (CreateTime) nor 1 (LogAppendTime)`);
  }
  const baseOffset = checkInt64('baseOffset', input.baseOffset ?? 0n);
  const partitionLeaderEpoch = checkInt('partitionLeaderEpoch', input.partitionLeaderEpoch ?? -1, 32);
  const producerId = checkInt64('producerId', input.producerId ?? -1n);
  const producerEpoch = checkInt('producerEpoch', input.producerEpoch ?? -1, 16);
  const baseSequence = checkInt('baseSequence', input.baseSequence ?? -1, 32);
  const records = input.records;

  const baseTimestamp = checkInt64(
    'baseTimestamp',
    input.baseTimestamp ?? records[0]?.timestamp ?? (records.length > 0 ? BigInt(Date.now()) : -1n),
  );
  const planned: PlannedRecord[] = [];
  let maxTimestamp = records.length > 0 ? INT64_MIN : baseTimestamp;
  let previousDelta = -1;
  let recordsBytes = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const timestamp = checkInt64('record timestamp', r.timestamp ?? baseTimestamp);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const offsetDelta = checkInt('offsetDelta', r.offsetDelta ?? i, 32);
    if (offsetDelta <= previousDelta) {
      throw new RangeError(`record ${i} has offsetDelta ${offsetDelta}; deltas must increase (previous ${previousDelta})`);
    }
    previousDelta = offsetDelta;
    const p = plan(r, checkInt64('timestamp delta', timestamp - baseTimestamp), offsetDelta);
    recordsBytes += sizeOfVarint(p.bodySize) + p.bodySize;
    planned.push(p);
  }
  if (input.maxTimestamp !== undefined) maxTimestamp = checkInt64('maxTimestamp', input.maxTimestamp);
  const lastOffsetDelta = checkInt('lastOffsetDelta', input.lastOffsetDelta ?? Math.max(previousDelta, 0), 32);

  let out: Buffer;
  if (compression === CompressionCodec.None) {
    out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + recordsBytes);
    let pos = RECORD_BATCH_OVERHEAD;
    for (const p of planned) pos = writeRecord(out, pos, p);
    if (pos !== out.length) throw new Error(`buildBatch sized ${out.length} bytes but wrote ${pos}`);
  } else {
    const raw = Buffer.allocUnsafe(recordsBytes);
    let pos = 0;
    for (const p of planned) pos = writeRecord(raw, pos, p);
    if (pos !== raw.length) throw new Error(`buildBatch sized ${raw.length} bytes of records but wrote ${pos}`);
    const packed = compress(compression, raw);
    out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + packed.length);
    packed.copy(out, RECORD_BATCH_OVERHEAD);
  }

  let attributes = compression;
  if (timestampType === TimestampType.LogAppendTime) attributes |= BatchAttribute.LogAppendTime;
  if (input.isTransactional === true) attributes |= BatchAttribute.Transactional;
  if (input.isControl === true) attributes |= BatchAttribute.Control;

  out.writeBigInt64BE(baseOffset, BatchField.BaseOffset);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchField.BatchLength);
  out.writeInt32BE(partitionLeaderEpoch, BatchField.PartitionLeaderEpoch);
  out.writeInt8(RECORD_BATCH_MAGIC, BatchField.Magic);
  out.writeInt16BE(attributes, BatchField.Attributes);
  out.writeInt32BE(lastOffsetDelta, BatchField.LastOffsetDelta);
  out.writeBigInt64BE(baseTimestamp, BatchField.BaseTimestamp);
  out.writeBigInt64BE(maxTimestamp, BatchField.MaxTimestamp);
  out.writeBigInt64BE(producerId, BatchField.ProducerId);
  out.writeInt16BE(producerEpoch, BatchField.ProducerEpoch);
  out.writeInt32BE(baseSequence, BatchField.BaseSequence);
  out.writeInt32BE(records.length, BatchField.RecordCount);
  out.writeUInt32BE(crc32c(out.subarray(BatchField.Attributes)), BatchField.Crc);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// In-place patches of stored batches

function checkPatchable(buf: Buffer, offset: number): void {
  checkOffset(buf, offset);
  if (buf.length - offset < RECORD_BATCH_OVERHEAD) {
    throw new RangeError(`no record batch header at byte ${offset} of a ${buf.length}-byte buffer`);
  }
}

/**
 * Stamps the broker-assigned baseOffset on the batch at `offset`. The field lies outside the CRC, so
 * the stored checksum stays valid; record offsets are deltas and need no change.
 */
export function setBaseOffset(buf: Buffer, baseOffset: bigint, offset = 0): void {
  checkPatchable(buf, offset);
  buf.writeBigInt64BE(checkInt64('baseOffset', baseOffset), offset + BatchField.BaseOffset);
}

/** Stamps the leader epoch on the batch at `offset`; also outside the CRC. */
export function setPartitionLeaderEpoch(buf: Buffer, epoch: number, offset = 0): void {
  checkPatchable(buf, offset);
  buf.writeInt32BE(checkInt('partitionLeaderEpoch', epoch, 32), offset + BatchField.PartitionLeaderEpoch);
}
