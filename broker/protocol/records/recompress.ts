// Re-encoding a stored batch with another codec, for topics whose compression.type is not
// `producer` (Kafka's LogValidator recompresses such batches on append).
//
// Only the records blob changes: it is decompressed and compressed again with the target codec, so
// every record keeps its bytes (key, value, headers, timestamp and offset deltas). The header is kept
// field for field (base offset, leader epoch, timestamps, producer id and epoch, base sequence,
// record count, the transactional bit), except the codec bits, batchLength and the CRC, which are
// recomputed. Kafka rebuilds the records through its MemoryRecordsBuilder instead; for a v2 batch
// the records it writes are the same bytes, since a record is encoded relative to the batch header
// and that header is kept.
import { BatchAttribute, BatchField, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD, type RecordBatch } from './batch.js';
import { crc32c } from './crc32c.js';
import { CompressionCodec, compress, decompress, isSupportedCodec, type CompressionLevels } from './compression.js';
import { UnsupportedCompressionError } from './errors.js';

export interface RecompressOptions {
  codec: CompressionCodec;
  levels: CompressionLevels;
  /** Bound on the decompressed records blob (see decompress). */
  maxDecompressedBytes: number;
}

/**
 * The batch re-encoded with `opts.codec`, CRC set, or null when it stays as it is: it already uses
 * that codec (Kafka does not recompress a batch to change only its level), or it is a control batch
 * (Kafka never recompresses those; they are written by the broker, uncompressed).
 * Throws CorruptRecordError or DecompressionLimitError for a records blob that does not decompress.
 */
export function recompressBatch(batch: RecordBatch, opts: RecompressOptions): Buffer | null {
  const h = batch.header;
  if (h.isControl || h.compression === opts.codec) return null;
  if (!isSupportedCodec(h.compression)) throw new UnsupportedCompressionError(h.compression);
  const body = batch.bytes.subarray(RECORD_BATCH_OVERHEAD, h.size);
  const records = h.compression === CompressionCodec.None ? body : decompress(h.compression, body, opts.maxDecompressedBytes);
  const packed = compress(opts.codec, records, opts.levels);
  const out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + packed.length);
  batch.bytes.copy(out, 0, 0, RECORD_BATCH_OVERHEAD);
  packed.copy(out, RECORD_BATCH_OVERHEAD);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchField.BatchLength);
  out.writeInt16BE((h.attributes & ~BatchAttribute.CompressionMask) | opts.codec, BatchField.Attributes);
  out.writeUInt32BE(crc32c(out.subarray(BatchField.Attributes)), BatchField.Crc);
  return out;
}
