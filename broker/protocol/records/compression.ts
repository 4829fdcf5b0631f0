// Codecs of the v2 record batch. A compressed batch holds all of its records as one compressed blob;
// the codec id sits in bits 0-2 of the batch attributes.
//
// Every decompressor here is bounded by the caller's `maxOutputBytes`, and the bound is checked before
// the output is allocated wherever the format lets us learn its size up front (snappy preambles, LZ4
// block walk, zstd frame header). A producer controls these bytes, and a kilobyte of LZ4 or zstd can
// legitimately expand to hundreds of megabytes. A size the sender declares is not allocated on its
// word alone: snappy claims beyond what snappy can encode are refused, and zstd output buffers start
// near the input's size and grow with the output actually produced.

import zlib from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompressSync, uncompressSync as snappyUncompressSync } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import zstdBinding from 'zstd-napi/binding.js';
import { CorruptRecordError, DecompressionLimitError, UnsupportedCompressionError } from './errors.js';

export const CompressionCodec = {
  None: 0,
  Gzip: 1,
  Snappy: 2,
  Lz4: 3,
  Zstd: 4,
} as const;
export type CompressionCodec = (typeof CompressionCodec)[keyof typeof CompressionCodec];

const CODEC_NAMES: readonly string[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function isSupportedCodec(id: number): id is CompressionCodec {
  return Number.isInteger(id) && id >= 0 && id <= 4;
}

/** Lower-case codec name as Kafka configs spell it (`compression.type`). Throws for unknown ids. */
export function codecName(id: number): string {
  if (!isSupportedCodec(id)) throw new UnsupportedCompressionError(id);
  return CODEC_NAMES[id]!;
}

/**
 * Compression levels, as Kafka's compression.gzip.level, compression.lz4.level and
 * compression.zstd.level spell them. Undefined means the codec's default. lz4 has no entry: the
 * encoder Strata links (lz4_flex through lz4-napi) has one mode, lz4's fast one, which is what
 * Kafka's level 1 selects; the topic config refuses the levels it cannot honour.
 */
export interface CompressionLevels {
  /** -1 (zlib's default, 6) or 1..9. */
  gzip?: number;
  /** -131072..22, zstd's own range (0 is zstd's default, 3). */
  zstd?: number;
}

/** Kafka's default levels (GzipCompression, ZstdCompression), for the unit tests and the docs. */
export const GZIP_LEVEL_DEFAULT = -1;
export const ZSTD_LEVEL_DEFAULT = 3;
/** The one lz4 level Strata's encoder produces, and Kafka's default, which it accepts as well. */
export const LZ4_LEVEL_FAST = 1;
export const LZ4_LEVEL_DEFAULT = 9;

/** Compresses `data` in the framing Kafka clients expect for `codec`. Codec 0 returns `data` itself. */
export function compress(codec: number, data: Buffer, levels: CompressionLevels = {}): Buffer {
  switch (codec) {
    case CompressionCodec.None:
      return data;
    case CompressionCodec.Gzip:
      return levels.gzip === undefined ? zlib.gzipSync(data) : zlib.gzipSync(data, { level: levels.gzip });
    case CompressionCodec.Snappy:
      return xerialCompress(data);
    case CompressionCodec.Lz4:
      // Kafka's Java reader decodes every block on its own and never expects checksums it did not ask
      // for, so the frame must use independent blocks (lz4-napi's default) and no checksums.
      return compressFrameSync(data, { contentChecksum: false, blockChecksums: false });
    case CompressionCodec.Zstd:
      return levels.zstd === undefined ? zstdCompress(data) : zstdCompress(data, { compressionLevel: levels.zstd });
    default:
      throw new UnsupportedCompressionError(codec);
  }
}

/**
 * Decompresses `data`, failing with DecompressionLimitError rather than producing more than
 * `maxOutputBytes`, with CorruptRecordError on malformed input, and with UnsupportedCompressionError
 * for ids 5-7. Codec 0 returns `data` itself.
 */
export function decompress(codec: number, data: Buffer, maxOutputBytes: number): Buffer {
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
    throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${maxOutputBytes}`);
  }
  switch (codec) {
    case CompressionCodec.None:
      if (data.length > maxOutputBytes) throw new DecompressionLimitError('none', maxOutputBytes, `${data.length} bytes`);
      return data;
    case CompressionCodec.Gzip:
      return gunzip(data, maxOutputBytes);
    case CompressionCodec.Snappy:
      return snappyDecompress(data, maxOutputBytes);
    case CompressionCodec.Lz4:
      return lz4Decompress(data, maxOutputBytes);
    case CompressionCodec.Zstd:
      return zstdDecompress(data, maxOutputBytes);
    default:
      throw new UnsupportedCompressionError(codec);
  }
}

function corrupt(codec: string, detail: string, cause?: unknown): CorruptRecordError {
  return new CorruptRecordError(`invalid ${codec} data: ${detail}`, cause === undefined ? undefined : { cause });
}

function causeMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// gzip

function gunzip(data: Buffer, max: number): Buffer {
  let out: Buffer;
  try {
    // zlib rejects a limit of 0 and anything past the largest Buffer; the length check below covers 0.
    out = zlib.gunzipSync(data, { maxOutputLength: Math.min(Math.max(max, 1), bufferConstants.MAX_LENGTH) });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DecompressionLimitError('gzip', max, 'zlib stopped at the limit');
    }
    throw corrupt('gzip', causeMessage(err), err);
  }
  if (out.length > max) throw new DecompressionLimitError('gzip', max, `${out.length} bytes`);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// snappy
//
// Kafka's Java client writes snappy through snappy-java's stream format ("xerial"): a 16-byte header
// (magic 0x82 'SNAPPY' 0x00, int32 version, int32 compatible version) followed by blocks of
// [int32 big-endian compressed length][raw snappy block]. librdkafka can also send one raw snappy
// block with no framing. Every raw block begins with its uncompressed length as a varint, which lets
// us check the limit before decompressing anything.

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
// snappy-java's default block size, so our output is shaped like the Java client's.
const XERIAL_BLOCK_BYTES = 32 * 1024;

function hasXerialMagic(data: Buffer, pos: number): boolean {
  return data.length - pos >= XERIAL_MAGIC.length && XERIAL_MAGIC.compare(data, pos, pos + XERIAL_MAGIC.length) === 0;
}

function xerialCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.allocUnsafe(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  parts.push(header);
  let total = XERIAL_HEADER_BYTES;
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_BYTES) {
    const block = snappyCompressSync(data.subarray(pos, Math.min(pos + XERIAL_BLOCK_BYTES, data.length)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
    total += 4 + block.length;
  }
  return Buffer.concat(parts, total);
}

/** Uncompressed length from a raw snappy block's preamble (unsigned varint, at most 32 bits). */
function snappyPreamble(block: Buffer): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) throw corrupt('snappy', 'block ends inside its length preamble');
    const b = block[i]!;
    if (i === 4 && b > 0x0f) throw corrupt('snappy', 'block length preamble overflows 32 bits');
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return value;
  }
  throw corrupt('snappy', 'block length preamble longer than 5 bytes');
}

/** The most a snappy block can expand: its densest element, a 3-byte copy, yields 64 bytes (about
 *  21x). A preamble claiming more than this for the bytes present cannot be genuine, and checking it
 *  keeps the native decoder from allocating a size the input does not back. */
const SNAPPY_EXPANSION_MAX = 32;

function snappyBlock(block: Buffer, expected: number): Buffer {
  if (expected > block.length * SNAPPY_EXPANSION_MAX + 64) {
    throw corrupt('snappy', `block of ${block.length} bytes claims ${expected} uncompressed bytes, more than snappy can encode`);
  }
  let out: Buffer;
  try {
    out = snappyUncompressSync(block, { asBuffer: true }) as Buffer;
  } catch (err) {
    throw corrupt('snappy', causeMessage(err), err);
  }
  if (out.length !== expected) {
    throw corrupt('snappy', `block declared ${expected} bytes but decompressed to ${out.length}`);
  }
  return out;
}

function snappyDecompress(data: Buffer, max: number): Buffer {
  if (!hasXerialMagic(data, 0)) {
    const size = snappyPreamble(data);
    if (size > max) throw new DecompressionLimitError('snappy', max, `block declares ${size} bytes`);
    return snappyBlock(data, size);
  }
  const blocks: Buffer[] = [];
  const sizes: number[] = [];
  let total = 0;
  let pos = 0;
  while (pos < data.length) {
    // snappy-java accepts concatenated streams, each with its own header. A block length can never
    // start with 0x82 (it would be negative), so the magic at a block boundary is unambiguous.
    if (hasXerialMagic(data, pos)) {
      if (data.length - pos < XERIAL_HEADER_BYTES) throw corrupt('snappy', 'truncated xerial stream header');
      pos += XERIAL_HEADER_BYTES;
      continue;
    }
    if (data.length - pos < 4) throw corrupt('snappy', `truncated xerial block length at byte ${pos}`);
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > data.length - pos) {
      throw corrupt('snappy', `xerial block of ${len} bytes at byte ${pos - 4} does not fit the ${data.length - pos} left`);
    }
    const block = data.subarray(pos, pos + len);
    pos += len;
    const size = snappyPreamble(block);
    if (size > block.length * SNAPPY_EXPANSION_MAX + 64) {
      throw corrupt('snappy', `xerial block of ${block.length} bytes claims ${size} uncompressed bytes, more than snappy can encode`);
    }
    total += size;
    if (total > max) throw new DecompressionLimitError('snappy', max, `xerial blocks declare at least ${total} bytes`);
    blocks.push(block);
    sizes.push(size);
  }
  if (blocks.length === 1) return snappyBlock(blocks[0]!, sizes[0]!);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < blocks.length; i++) {
    at += snappyBlock(blocks[i]!, sizes[i]!).copy(out, at);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// lz4
//
// Kafka uses the LZ4 frame format (magic 0x184D2204). lz4-napi decodes a whole frame in one call with
// no output limit, so before calling it we walk the frame ourselves: stored blocks have known sizes,
// and a compressed block's output size is the sum of its literal and match lengths, which a scan of
// the sequence tokens yields without writing any output.

const LZ4_FRAME_MAGIC = 0x184d2204;
// Block maximum sizes by the BD byte's 3-bit id; ids 0-3 are reserved.
const LZ4_BLOCK_MAX_BYTES: readonly number[] = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
const LZ4_MIN_MATCH = 4;

/** Output bytes of one compressed LZ4 block occupying data[start, end). */
function lz4BlockOutputBytes(data: Buffer, start: number, end: number, blockMax: number): number {
  let p = start;
  let out = 0;
  for (;;) {
    if (p >= end) throw corrupt('lz4', `block at byte ${start} ends without a final literal run`);
    const token = data[p++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let s: number;
      do {
        if (p >= end) throw corrupt('lz4', `block at byte ${start} ends inside a literal length`);
        s = data[p++]!;
        literals += s;
      } while (s === 255);
    }
    p += literals;
    out += literals;
    if (p > end) throw corrupt('lz4', `block at byte ${start} has literals past its end`);
    // The last sequence of a block is literals only.
    if (p === end) break;
    if (end - p < 2) throw corrupt('lz4', `block at byte ${start} ends inside a match offset`);
    if (data[p] === 0 && data[p + 1] === 0) throw corrupt('lz4', `block at byte ${start} has a zero match offset`);
    p += 2;
    let match = token & 0x0f;
    if (match === 15) {
      let s: number;
      do {
        if (p >= end) throw corrupt('lz4', `block at byte ${start} ends inside a match length`);
        s = data[p++]!;
        match += s;
      } while (s === 255);
    }
    out += match + LZ4_MIN_MATCH;
    if (out > blockMax) throw corrupt('lz4', `block at byte ${start} expands past the ${blockMax}-byte block maximum`);
  }
  if (out > blockMax) throw corrupt('lz4', `block at byte ${start} expands past the ${blockMax}-byte block maximum`);
  return out;
}

/** Total output bytes of the LZ4 frame at the start of `data`; fails early once past `max`. */
function lz4FrameOutputBytes(data: Buffer, max: number): number {
  const end = data.length;
  if (end < 7) throw corrupt('lz4', `${end} bytes is shorter than a frame header`);
  const magic = data.readUInt32LE(0);
  if (magic !== LZ4_FRAME_MAGIC) {
    throw corrupt('lz4', `expected frame magic 0x184d2204, found 0x${magic.toString(16).padStart(8, '0')}`);
  }
  const flg = data[4]!;
  const bd = data[5]!;
  if (flg >>> 6 !== 1) throw corrupt('lz4', `unsupported frame version ${flg >>> 6}`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw corrupt('lz4', 'reserved frame descriptor bits are set');
  const blockMax = LZ4_BLOCK_MAX_BYTES[(bd >>> 4) & 0x07]!;
  if (blockMax === 0) throw corrupt('lz4', `reserved block maximum size id ${(bd >>> 4) & 0x07}`);
  const blockChecksums = (flg & 0x10) !== 0;
  const contentSizeSet = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const dictIdSet = (flg & 0x01) !== 0;
  let pos = 6;
  if (contentSizeSet) {
    if (end - pos < 8) throw corrupt('lz4', 'truncated frame content size');
    const declared = data.readBigUInt64LE(pos);
    if (declared > BigInt(max)) throw new DecompressionLimitError('lz4', max, `frame declares ${declared} bytes`);
    pos += 8;
  }
  if (dictIdSet) pos += 4;
  pos += 1; // header checksum, verified by the decoder
  let total = 0;
  for (;;) {
    if (end - pos < 4) throw corrupt('lz4', 'frame ends before its end mark');
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const stored = word >>> 31 === 1;
    if (size > blockMax) throw corrupt('lz4', `block of ${size} bytes exceeds the frame's ${blockMax}-byte maximum`);
    if (size > end - pos) throw corrupt('lz4', `block of ${size} bytes at byte ${pos - 4} is truncated`);
    total += stored ? size : lz4BlockOutputBytes(data, pos, pos + size, blockMax);
    if (total > max) throw new DecompressionLimitError('lz4', max, `frame blocks hold at least ${total} bytes`);
    pos += size + (blockChecksums ? 4 : 0);
  }
  if (contentChecksum && end - pos < 4) throw corrupt('lz4', 'truncated frame content checksum');
  // Bytes after the frame are ignored, as Kafka's own reader does.
  return total;
}

function lz4Decompress(data: Buffer, max: number): Buffer {
  const expected = lz4FrameOutputBytes(data, max);
  let out: Buffer;
  try {
    out = decompressFrameSync(data);
  } catch (err) {
    throw corrupt('lz4', causeMessage(err), err);
  }
  if (out.length !== expected) throw corrupt('lz4', `frame decoded to ${out.length} bytes, its blocks describe ${expected}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// zstd
//
// zstd-napi's one-call decompress allocates whatever the frame header declares and otherwise grows
// without limit, so Strata drives the native streaming decoder itself and stops at the limit. The
// decoder's window is capped by zstd's default windowLogMax (27, i.e. 128 MiB), which Kafka clients at
// the highest levels may use; a lower cap would reject their batches.

const ZSTD_OUT_CHUNK = zstdBinding.dStreamOutSize();
/** How far the first output buffer may exceed the input; later buffers double with the output. */
const ZSTD_FIRST_CHUNK_EXPANSION = 32;
let zstdContext: InstanceType<typeof zstdBinding.DCtx> | undefined;

function zstdDecompress(data: Buffer, max: number): Buffer {
  let declared: number | null;
  try {
    declared = zstdBinding.getFrameContentSize(data);
  } catch (err) {
    throw corrupt('zstd', causeMessage(err), err);
  }
  if (declared !== null && declared > max) {
    throw new DecompressionLimitError('zstd', max, `frame declares ${declared} bytes`);
  }
  const dctx = (zstdContext ??= new zstdBinding.DCtx());
  // A previous call may have failed mid-frame; start clean.
  dctx.reset(zstdBinding.ResetDirective.sessionOnly);
  const cap = max + 1; // one spare byte makes overflow visible as total > max
  const chunks: Buffer[] = [];
  let total = 0;
  let input = data;
  // The declared size is the sender's word: trust it only as far as the input could plausibly
  // expand, and grow geometrically past that, so a tiny frame claiming a huge size costs little.
  const plausible = Math.max(ZSTD_OUT_CHUNK, data.length * ZSTD_FIRST_CHUNK_EXPANSION);
  let want = declared !== null ? Math.min(declared + 1, plausible) : Math.max(ZSTD_OUT_CHUNK, data.length * 4);
  for (;;) {
    const room = Math.min(want, cap - total);
    const out = Buffer.allocUnsafe(room);
    let hint: number, produced: number, consumed: number;
    try {
      [hint, produced, consumed] = dctx.decompressStream(out, input);
    } catch (err) {
      throw corrupt('zstd', causeMessage(err), err);
    }
    input = input.subarray(consumed);
    if (produced > 0) {
      chunks.push(produced === room ? out : out.subarray(0, produced));
      total += produced;
    }
    if (total > max) throw new DecompressionLimitError('zstd', max, `output passed ${max} bytes`);
    if (hint === 0 && input.length === 0) break;
    if (input.length === 0 && produced < room) throw corrupt('zstd', 'truncated frame');
    if (produced === 0 && consumed === 0) throw corrupt('zstd', 'decoder made no progress');
    want = Math.max(ZSTD_OUT_CHUNK, total);
  }
  if (chunks.length === 0) return Buffer.alloc(0);
  if (chunks.length === 1) {
    const only = chunks[0]!;
    // Keep a view only when it does not pin a mostly empty allocation for the records' lifetime.
    if (only.length * 2 >= only.buffer.byteLength) return only;
  }
  return Buffer.concat(chunks, total);
}
