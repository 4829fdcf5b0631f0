/**
 * Compression codecs for KafkaJS 2.2.4, which only ships gzip. Built on the
 * project's own compression dependencies.
 *
 * Wire formats, matching what the usual KafkaJS codec plugins send:
 * - snappy: raw snappy block (no xerial framing) on compress; decompress
 *   also accepts the xerial-framed form that JVM producers write.
 * - lz4: LZ4 frame format (magic 0x184D2204), as Kafka requires since
 *   message format v1.
 * - zstd: a standard zstd frame.
 */
import kafkajs from 'kafkajs';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';

const { CompressionCodecs, CompressionTypes } = kafkajs;

export interface KafkaJsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** 0x82 "SNAPPY" 0x00, then version and compatible-version int32s. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_LEN = 16;

function snappyDecompress(buf: Buffer): Buffer {
  if (buf.length < XERIAL_HEADER_LEN || !buf.subarray(0, 8).equals(XERIAL_MAGIC)) {
    return snappyUncompress(buf) as Buffer;
  }
  // xerial framing: header, then blocks of int32 length + raw snappy block.
  const out: Buffer[] = [];
  let off = XERIAL_HEADER_LEN;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt32BE(off);
    off += 4;
    if (off + len > buf.length) throw new Error('truncated xerial snappy block');
    out.push(snappyUncompress(buf.subarray(off, off + len)) as Buffer);
    off += len;
  }
  return Buffer.concat(out);
}

export const snappyCodec = (): KafkaJsCodec => ({
  compress: async (encoder) => snappyCompress(encoder.buffer),
  decompress: async (buf) => snappyDecompress(buf),
});

export const lz4Codec = (): KafkaJsCodec => ({
  compress: async (encoder) => compressFrameSync(encoder.buffer),
  decompress: async (buf) => decompressFrameSync(buf),
});

export const zstdCodec = (): KafkaJsCodec => ({
  compress: async (encoder) => zstdCompress(encoder.buffer),
  decompress: async (buf) => zstdDecompress(buf),
});

/** Registers snappy, lz4 and zstd in KafkaJS's global codec table. */
export function registerKafkaJsCodecs(): void {
  const codecs = CompressionCodecs as unknown as Record<number, () => KafkaJsCodec>;
  codecs[CompressionTypes.Snappy] = snappyCodec;
  codecs[CompressionTypes.LZ4] = lz4Codec;
  codecs[CompressionTypes.ZSTD] = zstdCodec;
}
