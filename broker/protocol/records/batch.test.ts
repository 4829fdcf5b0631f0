import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BatchField,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  TimestampType,
  batchLastOffset,
  buildBatch,
  computeBatchCrc,
  iterateBatches,
  parseBatchHeader,
  readRecords,
  setBaseOffset,
  setPartitionLeaderEpoch,
  verifyBatchCrc,
  type RecordInput,
} from './batch.js';
import { CompressionCodec } from './compression.js';
import { crc32c } from './crc32c.js';
import { CorruptRecordError, DecompressionLimitError, RecordsError, UnsupportedCompressionError } from './errors.js';
import { writeVarint, writeVarlong } from './varint.js';

const CODECS = [0, 1, 2, 3, 4] as const;
const LIMIT = { maxDecompressedBytes: 16 * 1024 * 1024 };

function refreshCrc(buf: Buffer): Buffer {
  buf.writeUInt32BE(computeBatchCrc(buf), BatchField.Crc);
  return buf;
}

/** A batch around hand-made record bytes, with a correct CRC so parsing reaches the records. */
function assemble(body: Buffer, recordCount: number, compression = 0): Buffer {
  const header = buildBatch({ baseOffset: 0n, baseTimestamp: 1000n, records: [] });
  const out = Buffer.concat([header, body]);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchField.BatchLength);
  out.writeInt16BE(compression, BatchField.Attributes);
  out.writeInt32BE(recordCount, BatchField.RecordCount);
  return refreshCrc(out);
}

/** Encodes a record field by field; `null` entries of `parts` are skipped. */
function recordBytes(fields: { varints?: number[]; raw?: Buffer }[]): Buffer {
  const buf = Buffer.alloc(1024);
  let pos = 0;
  for (const f of fields) {
    for (const v of f.varints ?? []) pos = writeVarint(buf, pos, v);
    if (f.raw) pos += f.raw.copy(buf, pos);
  }
  return buf.subarray(0, pos);
}

/** A record body: attributes, timestampDelta, offsetDelta, key, value, headers — prefixed by its length. */
function record(opts: { keyLen?: number; key?: Buffer; valueLen?: number; value?: Buffer; headerBytes?: Buffer; lengthDelta?: number } = {}): Buffer {
  const body = Buffer.alloc(1024);
  let pos = 0;
  body[pos++] = 0;
  pos = writeVarlong(body, pos, 0n);
  pos = writeVarint(body, pos, 0);
  pos = writeVarint(body, pos, opts.keyLen ?? (opts.key ? opts.key.length : -1));
  if (opts.key) pos += opts.key.copy(body, pos);
  pos = writeVarint(body, pos, opts.valueLen ?? (opts.value ? opts.value.length : -1));
  if (opts.value) pos += opts.value.copy(body, pos);
  if (opts.headerBytes) pos += opts.headerBytes.copy(body, pos);
  else pos = writeVarint(body, pos, 0);
  const len = Buffer.alloc(5);
  const lenEnd = writeVarint(len, 0, pos + (opts.lengthDelta ?? 0));
  return Buffer.concat([len.subarray(0, lenEnd), body.subarray(0, pos)]);
}

function expectCode(fn: () => unknown, ctor: new (...args: never[]) => RecordsError, message?: RegExp): RecordsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ctor);
    if (message) expect((err as Error).message).toMatch(message);
    return err as RecordsError;
  }
  throw new Error(`expected ${ctor.name}`);
}

const sampleRecords: RecordInput[] = [
  {
    key: Buffer.from('key-0'),
    value: Buffer.from('value-0'),
    headers: [
      { key: 'trace-id', value: Buffer.from('abc') },
      { key: 'trace-id', value: Buffer.from('dup') },
      { key: 'gruß ✓', value: null },
      { key: '', value: Buffer.alloc(0) },
    ],
    timestamp: 1_700_000_000_000n,
  },
  { key: null, value: Buffer.from('no key'), timestamp: 1_700_000_000_500n },
  { key: Buffer.from('tombstone'), value: null, timestamp: 1_699_999_999_000n },
  { key: Buffer.alloc(0), value: Buffer.alloc(0), offsetDelta: 10 },
  { key: Buffer.from('big'), value: Buffer.alloc(200_000, 'x'), offsetDelta: 11, headers: [] },
];

describe('buildBatch / readRecords round trip', () => {
  it.each(CODECS)('codec %d: headers, null keys and values, gaps, negative deltas', (codec) => {
    const buf = buildBatch({
      baseOffset: 1234n,
      partitionLeaderEpoch: 7,
      compression: codec,
      producerId: 99n,
      producerEpoch: 3,
      baseSequence: 42,
      records: sampleRecords,
    });
    const header = parseBatchHeader(buf);
    expect(header).toMatchObject({
      baseOffset: 1234n,
      batchLength: buf.length - 12,
      size: buf.length,
      partitionLeaderEpoch: 7,
      magic: 2,
      compression: codec,
      timestampType: TimestampType.CreateTime,
      isTransactional: false,
      isControl: false,
      hasDeleteHorizonMs: false,
      lastOffsetDelta: 11,
      baseTimestamp: 1_700_000_000_000n,
      maxTimestamp: 1_700_000_000_500n,
      producerId: 99n,
      producerEpoch: 3,
      baseSequence: 42,
      recordCount: 5,
    });
    expect(header.crc).toBe(crc32c(buf.subarray(21)));
    expect(batchLastOffset(header)).toBe(1245n);

    const records = readRecords(buf, LIMIT);
    expect(records).toHaveLength(5);
    expect(records.map((r) => r.offset)).toEqual([1234n, 1235n, 1236n, 1244n, 1245n]);
    expect(records.map((r) => r.offsetDelta)).toEqual([0, 1, 2, 10, 11]);
    expect(records.map((r) => r.timestamp)).toEqual([
      1_700_000_000_000n,
      1_700_000_000_500n,
      1_699_999_999_000n,
      1_700_000_000_000n,
      1_700_000_000_000n,
    ]);
    expect(records[2]!.timestampDelta).toBe(-1000n);
    expect(records.map((r) => r.key?.toString() ?? null)).toEqual(['key-0', null, 'tombstone', '', 'big']);
    expect(records.map((r) => r.value?.length ?? null)).toEqual([7, 6, null, 0, 200_000]);
    expect(records[0]!.headers.map((h) => [h.key, h.value?.toString() ?? null])).toEqual([
      ['trace-id', 'abc'],
      ['trace-id', 'dup'],
      ['gruß ✓', null],
      ['', ''],
    ]);
    expect(records[1]!.headers).toEqual([]);
    expect(records.every((r) => r.attributes === 0)).toBe(true);
  });

  it.each(CODECS)('codec %d: empty batch', (codec) => {
    const buf = buildBatch({ baseOffset: 5n, compression: codec, records: [] });
    const header = parseBatchHeader(buf);
    expect(header.recordCount).toBe(0);
    expect(header.baseTimestamp).toBe(-1n);
    expect(header.maxTimestamp).toBe(-1n);
    expect(header.lastOffsetDelta).toBe(0);
    expect(readRecords(buf, LIMIT)).toEqual([]);
    if (codec === 0) expect(buf.length).toBe(RECORD_BATCH_OVERHEAD);
  });

  it('keeps an explicit lastOffsetDelta on an empty batch', () => {
    const header = parseBatchHeader(buildBatch({ baseOffset: 100n, lastOffsetDelta: 9, records: [] }));
    expect(batchLastOffset(header)).toBe(109n);
  });

  it('returns views into the batch for uncompressed records', () => {
    const buf = buildBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: Buffer.from('x') }] }] });
    const [r] = readRecords(buf, LIMIT);
    expect(r!.key!.buffer).toBe(buf.buffer);
    expect(r!.value!.buffer).toBe(buf.buffer);
    expect(r!.headers[0]!.value!.buffer).toBe(buf.buffer);
  });

  it('gives every record the batch maxTimestamp under LogAppendTime', () => {
    const buf = buildBatch({
      timestampType: TimestampType.LogAppendTime,
      baseTimestamp: 10n,
      maxTimestamp: 5000n,
      records: [
        { key: null, value: null, timestamp: 10n },
        { key: null, value: null, timestamp: 20n },
      ],
    });
    const header = parseBatchHeader(buf);
    expect(header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(header.attributes & 0x08).toBe(0x08);
    expect(readRecords(buf, LIMIT).map((r) => r.timestamp)).toEqual([5000n, 5000n]);
  });

  it('sets the transactional and control bits', () => {
    const header = parseBatchHeader(
      buildBatch({ isTransactional: true, isControl: true, producerId: 5n, producerEpoch: 1, records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }] }),
    );
    expect(header.isTransactional).toBe(true);
    expect(header.isControl).toBe(true);
    expect(header.attributes).toBe(0x30);
  });

  it('defaults to a producer-less CreateTime batch stamped now', () => {
    const before = BigInt(Date.now());
    const header = parseBatchHeader(buildBatch({ records: [{ key: null, value: Buffer.from('v') }] }));
    expect(header).toMatchObject({ baseOffset: 0n, partitionLeaderEpoch: -1, producerId: -1n, producerEpoch: -1, baseSequence: -1 });
    expect(header.baseTimestamp).toBeGreaterThanOrEqual(before);
    expect(header.maxTimestamp).toBe(header.baseTimestamp);
  });

  it('lays out the header at the documented offsets', () => {
    const buf = buildBatch({ baseOffset: 0x0102030405060708n, partitionLeaderEpoch: 0x0a0b0c0d, baseTimestamp: 0n, records: [] });
    expect(buf.subarray(0, 8).toString('hex')).toBe('0102030405060708');
    expect(buf.readInt32BE(8)).toBe(49);
    expect(buf.subarray(12, 16).toString('hex')).toBe('0a0b0c0d');
    expect(buf[16]).toBe(2);
    expect(buf.readUInt32BE(17)).toBe(crc32c(buf.subarray(21)));
    expect(buf.readInt32BE(57)).toBe(0);
  });

  it('rejects invalid build input', () => {
    expect(() => buildBatch({ records: [{ key: null, value: null, offsetDelta: 3 }, { key: null, value: null, offsetDelta: 3 }] })).toThrow(RangeError);
    expect(() => buildBatch({ producerEpoch: 40_000, records: [] })).toThrow(RangeError);
    expect(() => buildBatch({ baseOffset: 1n << 63n, records: [] })).toThrow(RangeError);
    expect(() => buildBatch({ timestampType: 2 as TimestampType, records: [] })).toThrow(RangeError);
    expectCode(() => buildBatch({ compression: 5, records: [] }), UnsupportedCompressionError);
  });

  it('enforces the decompression limit', () => {
    const buf = buildBatch({ compression: CompressionCodec.Zstd, records: [{ key: null, value: Buffer.alloc(1_000_000) }] });
    expectCode(() => readRecords(buf, { maxDecompressedBytes: 100_000 }), DecompressionLimitError);
  });
});

describe('parseBatchHeader', () => {
  const good = buildBatch({ baseOffset: 10n, baseTimestamp: 1n, records: [{ key: null, value: Buffer.from('v') }] });

  it('reads a batch at an offset inside a larger buffer', () => {
    const buf = Buffer.concat([Buffer.from('junk'), good, Buffer.from('tail')]);
    expect(parseBatchHeader(buf, 4).baseOffset).toBe(10n);
  });

  it('rejects buffers too short for the length prefix', () => {
    for (const n of [0, 1, 11]) {
      expectCode(() => parseBatchHeader(good.subarray(0, n)), CorruptRecordError, /too short/);
    }
  });

  it('rejects a batch that runs past the buffer', () => {
    for (const n of [12, 17, 60, good.length - 1]) {
      expectCode(() => parseBatchHeader(good.subarray(0, n)), CorruptRecordError, /declares \d+ bytes/);
    }
  });

  it.each([-1, 0, 48])('rejects batchLength %d', (len) => {
    const buf = Buffer.from(good);
    buf.writeInt32BE(len, 8);
    const err = expectCode(() => parseBatchHeader(buf), CorruptRecordError, /batchLength/);
    expect(err.code).toBe('CORRUPT_MESSAGE');
  });

  it.each([0, 1, 3, -1])('names magic %d', (magic) => {
    const buf = Buffer.from(good);
    buf.writeInt8(magic, 16);
    expectCode(() => parseBatchHeader(buf), CorruptRecordError, new RegExp(`magic ${magic}\\b`));
  });

  it('reports the magic even when the rest is missing', () => {
    const legacy = Buffer.alloc(26);
    legacy.writeInt32BE(14, 8);
    legacy[16] = 1;
    expectCode(() => parseBatchHeader(legacy), CorruptRecordError, /magic 1 \(a legacy message set\)/);
  });

  it('reports both CRCs on a mismatch', () => {
    const buf = Buffer.from(good);
    buf[buf.length - 1] = buf[buf.length - 1]! ^ 0xff;
    const actual = crc32c(buf.subarray(21));
    const stored = buf.readUInt32BE(17);
    const err = expectCode(() => parseBatchHeader(buf), CorruptRecordError, /CRC/);
    expect(err.message).toContain(`expected 0x${stored.toString(16).padStart(8, '0')}`);
    expect(err.message).toContain(`actual 0x${actual.toString(16).padStart(8, '0')}`);
    expectCode(() => verifyBatchCrc(buf), CorruptRecordError, /CRC/);
    expect(parseBatchHeader(buf, 0, { verifyCrc: false }).baseOffset).toBe(10n);
    expect(() => verifyBatchCrc(good)).not.toThrow();
  });

  it('rejects an offset outside the buffer', () => {
    expect(() => parseBatchHeader(good, good.length + 1)).toThrow(RangeError);
    expect(() => parseBatchHeader(good, -1)).toThrow(RangeError);
  });
});

describe('iterateBatches', () => {
  const a = buildBatch({ baseOffset: 0n, baseTimestamp: 1n, records: [{ key: null, value: Buffer.from('a') }] });
  const b = buildBatch({ baseOffset: 1n, baseTimestamp: 1n, compression: CompressionCodec.Lz4, records: [{ key: null, value: Buffer.from('b') }] });
  const c = buildBatch({ baseOffset: 2n, baseTimestamp: 1n, records: [] });
  const blob = Buffer.concat([a, b, c]);

  it('walks concatenated batches as views', () => {
    const it = iterateBatches(blob);
    const batches = [...it];
    expect(batches.map((x) => x.header.baseOffset)).toEqual([0n, 1n, 2n]);
    expect(batches.map((x) => x.position)).toEqual([0, a.length, a.length + b.length]);
    expect(batches[1]!.bytes.equals(b)).toBe(true);
    expect(batches[1]!.bytes.buffer).toBe(blob.buffer);
    expect(it.partial).toBeNull();
    expect(it.position).toBe(blob.length);
    expect(readRecords(batches[1]!, LIMIT)[0]!.value!.toString()).toBe('b');
  });

  it('yields nothing for an empty blob', () => {
    const it = iterateBatches(Buffer.alloc(0));
    expect([...it]).toEqual([]);
    expect(it.partial).toBeNull();
  });

  it('reports a trailing partial batch whose length is known', () => {
    const cut = blob.subarray(0, a.length + b.length + 30);
    const it = iterateBatches(cut);
    expect([...it].length).toBe(2);
    expect(it.partial).toEqual({ position: a.length + b.length, availableBytes: 30, declaredBytes: c.length });
    expect(it.position).toBe(a.length + b.length);
  });

  it('reports a trailing partial batch cut inside its length field', () => {
    const it = iterateBatches(blob.subarray(0, a.length + 7));
    expect([...it].length).toBe(1);
    expect(it.partial).toEqual({ position: a.length, availableBytes: 7, declaredBytes: null });
  });

  it('stays done after the end', () => {
    const it = iterateBatches(a);
    expect(it.next().done).toBe(false);
    expect(it.next().done).toBe(true);
    expect(it.next().done).toBe(true);
  });

  it('throws on a corrupt batch in the middle', () => {
    const bad = Buffer.from(blob);
    bad[a.length + b.length - 1] = bad[a.length + b.length - 1]! ^ 1;
    const it = iterateBatches(bad);
    expect(it.next().done).toBe(false);
    expectCode(() => it.next(), CorruptRecordError, /CRC/);
  });

  it('can skip the CRC for the fetch path', () => {
    const bad = Buffer.from(blob);
    bad[a.length - 1] = bad[a.length - 1]! ^ 1;
    expect([...iterateBatches(bad, { verifyCrc: false })].length).toBe(3);
  });

  it('rejects a wrong magic even in a partial batch', () => {
    const bad = Buffer.from(blob.subarray(0, a.length + 20));
    bad[a.length + 16] = 1;
    const it = iterateBatches(bad);
    it.next();
    expectCode(() => it.next(), CorruptRecordError, /magic 1/);
  });

  it('treats a declared size past maxBatchBytes as corrupt, not partial', () => {
    const bad = Buffer.concat([a, Buffer.alloc(20)]);
    bad.writeInt32BE(0x7fffff00, a.length + 8);
    bad[a.length + 16] = 2;
    const it = iterateBatches(bad, { maxBatchBytes: 1024 * 1024 });
    it.next();
    expectCode(() => it.next(), CorruptRecordError, /limit/);
    const lenient = iterateBatches(bad);
    expect([...lenient].length).toBe(1);
    expect(lenient.partial?.declaredBytes).toBe(0x7fffff00 + 12);
  });
});

describe('readRecords on malformed records', () => {
  it('accepts the hand-built baseline', () => {
    const buf = assemble(Buffer.concat([record({ key: Buffer.from('k'), value: Buffer.from('v') }), record()]), 2);
    const records = readRecords(buf, LIMIT);
    expect(records.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
      ['k', 'v'],
      [null, null],
    ]);
  });

  it.each([2_000_000_000, 0x7fffffff, 1000])('rejects recordCount %d without allocating for it', (count) => {
    const buf = assemble(record(), count);
    expectCode(() => readRecords(buf, LIMIT), CorruptRecordError, /claims \d+ records/);
  });

  it('rejects a recordCount in the billions inside a compressed batch', () => {
    for (const codec of [1, 2, 3, 4]) {
      const buf = buildBatch({ compression: codec, records: [{ key: null, value: Buffer.from('v') }] });
      buf.writeInt32BE(1_500_000_000, BatchField.RecordCount);
      expectCode(() => readRecords(refreshCrc(buf), LIMIT), CorruptRecordError, /claims 1500000000 records/);
    }
  });

  it('rejects a negative recordCount', () => {
    expectCode(() => readRecords(assemble(record(), -1), LIMIT), CorruptRecordError, /record count -1/);
  });

  it('rejects more records claimed than present', () => {
    const filler = Buffer.alloc(20, 'x');
    const body = Buffer.concat([record({ value: filler }), record({ value: filler })]);
    expectCode(() => readRecords(assemble(body, 3), LIMIT), CorruptRecordError, /record 2 .*truncated varint/);
  });

  it('rejects bytes left after the last record', () => {
    expectCode(() => readRecords(assemble(Buffer.concat([record(), record()]), 1), LIMIT), CorruptRecordError, /bytes after/);
  });

  it.each([-2, -100, -2147483648])('rejects key length %d', (len) => {
    expectCode(() => readRecords(assemble(record({ keyLen: len }), 1), LIMIT), CorruptRecordError, /key length .* negative/);
  });

  it.each([-2, -7])('rejects value length %d', (len) => {
    expectCode(() => readRecords(assemble(record({ valueLen: len }), 1), LIMIT), CorruptRecordError, /value length .* negative/);
  });

  it('rejects a key length past the record', () => {
    expectCode(() => readRecords(assemble(record({ keyLen: 1 << 30 }), 1), LIMIT), CorruptRecordError, /runs past the record/);
    // The key may not borrow bytes from the next record.
    const r1 = record({ keyLen: 3 });
    expectCode(() => readRecords(assemble(Buffer.concat([r1, record({ key: Buffer.from('abcdef') })]), 2), LIMIT), CorruptRecordError);
  });

  it('rejects record lengths that are negative, too small or too large', () => {
    for (const bad of [
      Buffer.from([0x01, 0, 0, 0, 1, 1, 0]), // -1
      Buffer.from([0x0a, 0, 0, 0, 1, 1]), // 5: below the 6-byte minimum
      recordBytes([{ varints: [1 << 29] }, { raw: Buffer.alloc(10) }]),
      record({ lengthDelta: 1 }),
    ]) {
      expectCode(() => readRecords(assemble(bad, 1), LIMIT), CorruptRecordError);
    }
  });

  it('rejects a record whose fields end before its declared length', () => {
    const r = record();
    const padded = Buffer.concat([Buffer.from([(r.length) * 2]), r.subarray(1), Buffer.from([0])]);
    expectCode(() => readRecords(assemble(padded, 1), LIMIT), CorruptRecordError, /end 1 bytes early/);
  });

  it('rejects header counts that are negative or in the billions', () => {
    for (const count of [-1, 1_000_000_000, 2_147_483_647]) {
      const headerBytes = recordBytes([{ varints: [count] }]);
      expectCode(() => readRecords(assemble(record({ headerBytes }), 1), LIMIT), CorruptRecordError, /header/);
    }
  });

  it('rejects a null or overlong header key', () => {
    for (const headerBytes of [recordBytes([{ varints: [1, -1, -1] }]), recordBytes([{ varints: [1, 50, -1] }])]) {
      expectCode(() => readRecords(assemble(record({ headerBytes }), 1), LIMIT), CorruptRecordError, /header key length/);
    }
  });

  it('rejects a truncated varint at the end of the records', () => {
    const body = Buffer.concat([record({ value: Buffer.alloc(10) }), Buffer.from([0x80])]);
    expectCode(() => readRecords(assemble(body, 2), LIMIT), CorruptRecordError, /record 1 .*truncated varint/);
  });

  it.each([5, 6, 7])('rejects compression id %d with a coded error', (id) => {
    const err = expectCode(() => readRecords(assemble(record(), 1, id), LIMIT), UnsupportedCompressionError);
    expect(err.code).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    expect(err.message).toContain(`id ${id}`);
    // The header itself still parses: the fetch path forwards such bytes without reading records.
    expect(parseBatchHeader(assemble(record(), 1, id)).compression).toBe(id);
  });

  it('rejects compressed garbage', () => {
    for (const codec of [1, 2, 3, 4]) {
      expectCode(() => readRecords(assemble(Buffer.from('definitely not compressed'), 1, codec), LIMIT), CorruptRecordError);
    }
  });
});

describe('in-place patches', () => {
  it('set baseOffset and partitionLeaderEpoch without invalidating the CRC', () => {
    const buf = buildBatch({ baseOffset: 0n, baseTimestamp: 5n, records: [{ key: null, value: Buffer.from('a') }, { key: null, value: Buffer.from('b') }] });
    const crc = buf.readUInt32BE(17);
    setBaseOffset(buf, 1_000_000_000_000n);
    setPartitionLeaderEpoch(buf, 12);
    expect(buf.readUInt32BE(17)).toBe(crc);
    verifyBatchCrc(buf);
    const header = parseBatchHeader(buf);
    expect(header.baseOffset).toBe(1_000_000_000_000n);
    expect(header.partitionLeaderEpoch).toBe(12);
    expect(readRecords(buf, LIMIT).map((r) => r.offset)).toEqual([1_000_000_000_000n, 1_000_000_000_001n]);
  });

  it('patch a batch inside a larger buffer', () => {
    const a = buildBatch({ baseTimestamp: 1n, records: [] });
    const blob = Buffer.concat([a, a]);
    setBaseOffset(blob, 77n, a.length);
    setPartitionLeaderEpoch(blob, 3, a.length);
    const [first, second] = [...iterateBatches(blob)];
    expect(first!.header.baseOffset).toBe(0n);
    expect(second!.header).toMatchObject({ baseOffset: 77n, partitionLeaderEpoch: 3 });
  });

  it('refuse out-of-range values and missing headers', () => {
    const buf = buildBatch({ baseTimestamp: 1n, records: [] });
    expect(() => setBaseOffset(buf, 1n << 63n)).toThrow(RangeError);
    expect(() => setPartitionLeaderEpoch(buf, 2 ** 31)).toThrow(RangeError);
    expect(() => setBaseOffset(buf.subarray(0, 20), 1n)).toThrow(RangeError);
    expect(() => setPartitionLeaderEpoch(buf, 1, 1)).toThrow(RangeError);
  });
});

describe('properties', () => {
  const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), { nil: null });
  const recordArb = fc.record({
    key: bytesOrNull,
    value: bytesOrNull,
    headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 12 }), value: bytesOrNull }), { maxLength: 4 }),
    timestamp: fc.option(fc.bigInt({ min: -1n, max: 1n << 50n }), { nil: undefined }),
    gap: fc.integer({ min: 1, max: 1000 }),
  });
  const batchArb = fc.record({
    baseOffset: fc.bigInt({ min: 0n, max: (1n << 62n) }),
    partitionLeaderEpoch: fc.integer({ min: -1, max: 0x7fffffff }),
    compression: fc.constantFrom(...CODECS),
    isTransactional: fc.boolean(),
    producerId: fc.bigInt({ min: -1n, max: (1n << 63n) - 1n }),
    producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
    baseSequence: fc.integer({ min: -1, max: 0x7fffffff }),
    baseTimestamp: fc.bigInt({ min: 0n, max: 1n << 45n }),
    records: fc.array(recordArb, { maxLength: 12 }),
  });

  it('build then parse returns what went in', () => {
    fc.assert(
      fc.property(batchArb, (input) => {
        let delta = -1;
        const records = input.records.map((r) => {
          delta += r.gap;
          return { key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: delta };
        });
        const buf = buildBatch({ ...input, records });
        const header = parseBatchHeader(buf);
        expect(header).toMatchObject({
          baseOffset: input.baseOffset,
          partitionLeaderEpoch: input.partitionLeaderEpoch,
          compression: input.compression,
          isTransactional: input.isTransactional,
          producerId: input.producerId,
          producerEpoch: input.producerEpoch,
          baseSequence: input.baseSequence,
          baseTimestamp: input.baseTimestamp,
          recordCount: records.length,
          lastOffsetDelta: Math.max(delta, 0),
        });
        const stamps = records.map((r) => r.timestamp ?? input.baseTimestamp);
        expect(header.maxTimestamp).toBe(stamps.length > 0 ? stamps.reduce((m, t) => (t > m ? t : m)) : input.baseTimestamp);
        const decoded = readRecords(buf, LIMIT);
        expect(decoded).toHaveLength(records.length);
        decoded.forEach((d, i) => {
          const r = records[i]!;
          expect(d.key).toEqual(r.key);
          expect(d.value).toEqual(r.value);
          expect(d.headers).toEqual(r.headers);
          expect(d.offsetDelta).toBe(r.offsetDelta);
          expect(d.offset).toBe(input.baseOffset + BigInt(r.offsetDelta));
          expect(d.timestamp).toBe(stamps[i]);
        });
        const walked = [...iterateBatches(Buffer.concat([buf, buf]))];
        expect(walked.map((w) => w.position)).toEqual([0, buf.length]);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated record bytes with a valid CRC give records or a coded error, never anything else', () => {
    const base = buildBatch({ baseTimestamp: 1n, records: sampleRecords.slice(0, 4) });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: RECORD_BATCH_OVERHEAD - 4, max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (edits) => {
          const buf = Buffer.from(base);
          for (const [at, byte] of edits) buf[at] = byte;
          try {
            readRecords(refreshCrc(buf), LIMIT);
          } catch (err) {
            expect(err).toBeInstanceOf(RecordsError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('mutated compressed batches give records or a coded error', () => {
    const bases = [1, 2, 3, 4].map((codec) => buildBatch({ compression: codec, baseTimestamp: 1n, records: sampleRecords.slice(0, 4) }));
    fc.assert(
      fc.property(fc.constantFrom(...bases), fc.nat(), fc.integer({ min: 0, max: 255 }), (base, where, byte) => {
        const buf = Buffer.from(base);
        buf[RECORD_BATCH_OVERHEAD + (where % (buf.length - RECORD_BATCH_OVERHEAD))] = byte;
        try {
          readRecords(refreshCrc(buf), LIMIT);
        } catch (err) {
          expect(err).toBeInstanceOf(RecordsError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any truncation of a batch is reported as corrupt or partial', () => {
    const base = buildBatch({ baseTimestamp: 1n, records: sampleRecords.slice(0, 3) });
    for (let n = 0; n < base.length; n++) {
      const cut = base.subarray(0, n);
      expectCode(() => parseBatchHeader(cut), CorruptRecordError);
      const it = iterateBatches(cut);
      expect([...it]).toEqual([]);
      expect(it.partial === null).toBe(n === 0);
    }
  });

  it('random bytes never escape as anything but a coded error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          for (const batch of iterateBatches(Buffer.from(bytes), { verifyCrc: false })) readRecords(batch, LIMIT);
        } catch (err) {
          expect(err).toBeInstanceOf(RecordsError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
