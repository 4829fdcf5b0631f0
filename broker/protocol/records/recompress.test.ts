import { describe, expect, it } from 'vitest';
import { BatchAttribute, BatchField, buildBatch, parseBatchHeader, readRecords, TimestampType, type RecordBatch } from './batch.js';
import { CompressionCodec, compress, decompress } from './compression.js';
import { recompressBatch } from './recompress.js';

const CODECS = [CompressionCodec.None, CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd] as const;
const MAX = 64 * 1024 * 1024;

function asBatch(bytes: Buffer): RecordBatch {
  return { header: parseBatchHeader(bytes, 0), position: 0, bytes };
}

function idempotentBatch(codec: number): Buffer {
  return buildBatch({
    baseOffset: 0n,
    compression: codec,
    producerId: 4242n,
    producerEpoch: 3,
    baseSequence: 17,
    isTransactional: true,
    baseTimestamp: 1_700_000_000_000n,
    records: Array.from({ length: 50 }, (_, i) => ({
      key: Buffer.from(`key-${i}`),
      value: i % 7 === 0 ? null : Buffer.from(`value ${i} `.repeat(20)),
      headers: [{ key: 'h', value: Buffer.from([i]) }],
      timestamp: 1_700_000_000_000n + BigInt(i * 3),
    })),
  });
}

/** Everything a consumer sees of a batch, minus its codec. */
function view(bytes: Buffer) {
  const h = parseBatchHeader(bytes, 0);
  const { crc: _crc, attributes: _a, compression: _c, batchLength: _l, size: _s, ...fields } = h;
  const records = readRecords(bytes, { maxDecompressedBytes: MAX }).map((r) => ({ ...r, key: r.key?.toString('hex'), value: r.value?.toString('hex') }));
  return { fields, records };
}

describe('recompressBatch', () => {
  for (const from of CODECS) {
    for (const to of CODECS) {
      if (from === to) continue;
      it(`re-encodes ${from} as ${to}, keeping every header field and record`, () => {
        const original = idempotentBatch(from);
        const out = recompressBatch(asBatch(original), { codec: to, levels: {}, maxDecompressedBytes: MAX });
        expect(out).not.toBeNull();
        const h = parseBatchHeader(out!, 0); // verifies the CRC
        expect(h.compression).toBe(to);
        expect(h.attributes & ~BatchAttribute.CompressionMask).toBe(parseBatchHeader(original, 0).attributes & ~BatchAttribute.CompressionMask);
        expect(h.size).toBe(out!.length);
        expect(view(out!)).toEqual(view(original));
      });
    }
  }

  it('leaves a batch that already has the codec, and control batches, alone', () => {
    const zstd = idempotentBatch(CompressionCodec.Zstd);
    expect(recompressBatch(asBatch(zstd), { codec: CompressionCodec.Zstd, levels: { zstd: 19 }, maxDecompressedBytes: MAX })).toBeNull();
    const control = buildBatch({ isControl: true, producerId: 1n, producerEpoch: 0, records: [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }] });
    expect(recompressBatch(asBatch(control), { codec: CompressionCodec.Gzip, levels: {}, maxDecompressedBytes: MAX })).toBeNull();
  });

  it('keeps the LogAppendTime attribute and timestamps of a rewritten batch', () => {
    const b = buildBatch({ timestampType: TimestampType.LogAppendTime, maxTimestamp: 1_800_000_000_000n, records: [{ key: null, value: Buffer.from('x'), timestamp: 5n }] });
    const out = recompressBatch(asBatch(b), { codec: CompressionCodec.Lz4, levels: {}, maxDecompressedBytes: MAX })!;
    expect(parseBatchHeader(out, 0).timestampType).toBe(TimestampType.LogAppendTime);
    expect(out.readBigInt64BE(BatchField.MaxTimestamp)).toBe(1_800_000_000_000n);
    expect(readRecords(out, { maxDecompressedBytes: MAX })[0]!.timestamp).toBe(1_800_000_000_000n);
  });

  it('honours the gzip and zstd levels', () => {
    const original = idempotentBatch(CompressionCodec.None);
    const size = (codec: CompressionCodec, levels: object) => recompressBatch(asBatch(original), { codec, levels, maxDecompressedBytes: MAX })!.length;
    const records = original.subarray(61);
    // The stored blob is exactly what the codec makes at that level.
    for (const level of [1, 9]) {
      const out = recompressBatch(asBatch(original), { codec: CompressionCodec.Gzip, levels: { gzip: level }, maxDecompressedBytes: MAX })!;
      expect(out.subarray(61)).toEqual(compress(CompressionCodec.Gzip, records, { gzip: level }));
    }
    for (const level of [-50, 1, 19]) {
      const out = recompressBatch(asBatch(original), { codec: CompressionCodec.Zstd, levels: { zstd: level }, maxDecompressedBytes: MAX })!;
      expect(out.subarray(61)).toEqual(compress(CompressionCodec.Zstd, records, { zstd: level }));
      expect(decompress(CompressionCodec.Zstd, out.subarray(61), MAX)).toEqual(records);
    }
    // Levels change the output: a fast negative zstd level compresses this far less than 19.
    expect(size(CompressionCodec.Zstd, { zstd: -50 })).toBeGreaterThan(size(CompressionCodec.Zstd, { zstd: 19 }));
  });
});
