// Wire primitives for the Kafka protocol: the only hand-written byte handling the generated codecs
// call. Everything about layout per message lives in generated/; this file knows types, not messages.
//
// How an int64 travels: as a `bigint`, everywhere on the wire side. It is exact for every value Kafka
// can send (Long.MAX_VALUE sentinels included); code that needs arithmetic on offsets converts once,
// at the edge, with `toSafeNumber`, which refuses values past 2^53 instead of rounding them.
//
// Decoding never trusts a length: every string, bytes, records and array length is checked against
// the bytes left in the frame before anything is sliced or allocated, and unknown tagged fields are
// capped in number, so a hostile frame costs memory in proportion to its own size.

/** A coded error for bytes that do not decode. The caller turns it into a closed connection or a
 *  Kafka error code; it never escapes as a crash. */
export class ProtocolDecodeError extends Error {
  override readonly name = 'ProtocolDecodeError';
  readonly code = 'MALFORMED_FRAME';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

/** A value that cannot be written at the requested version: a null where the version has no null,
 *  or a non-default value in a field the version does not carry and that Kafka marks as not
 *  ignorable. Mirrors Kafka's UnsupportedVersionException on serialisation. */
export class ProtocolEncodeError extends Error {
  override readonly name = 'ProtocolEncodeError';
  readonly code = 'UNSUPPORTED_VERSION';
}

/** A tagged field this build does not know, kept as raw bytes so it survives a decode/encode trip. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka's textual uuid: 16 bytes in unpadded URL-safe base64 (22 characters), as Kafka's tools print
 *  topic ids. The all-zero uuid is Kafka's "no id". */
export type Uuid = string;
export const Uuid = { ZERO: ZERO_UUID } as const;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
/** Converts an int64 to a number, refusing values a double cannot hold exactly. */
export function toSafeNumber(value: bigint, what: string): number {
  if (value > MAX_SAFE || value < MIN_SAFE) throw new RangeError(`${what} ${value} is outside the exact range of a number`);
  return Number(value);
}

/** Unknown tagged fields kept per decoded frame. Each costs an object and a copy, far more than its
 *  two bytes on the wire, so without a cap a frame of empty tags would amplify into hundreds of times
 *  its size in memory. Known tags are not counted. */
export const UNKNOWN_TAGGED_FIELDS_MAX = 4096;
/** Kafka's limit on any string, compact or not: it must fit an int16 length. */
export const STRING_BYTES_MAX = 0x7fff;

export class Reader {
  pos: number;
  readonly end: number;
  private unknownTagsLeft = UNKNOWN_TAGGED_FIELDS_MAX;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): number {
    const at = this.pos;
    if (n > this.end - at) throw new ProtocolDecodeError(`${what} needs ${n} bytes but ${this.end - at} are left`, at);
    this.pos = at + n;
    return at;
  }

  bool(): boolean {
    return this.buf[this.need(1, 'bool')] !== 0;
  }
  int8(): number {
    return this.buf.readInt8(this.need(1, 'int8'));
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2, 'int16'));
  }
  uint16(): number {
    return this.buf.readUInt16BE(this.need(2, 'uint16'));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4, 'int32'));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.need(4, 'uint32'));
  }
  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8, 'int64'));
  }
  float64(): number {
    return this.buf.readDoubleBE(this.need(8, 'float64'));
  }
  uuid(): Uuid {
    const at = this.need(16, 'uuid');
    return this.buf.toString('base64url', at, at + 16);
  }

  /** Unsigned LEB128 varint of at most 32 bits, as Kafka uses for compact lengths and tags. */
  uvarint(): number {
    const start = this.pos;
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      if (this.pos >= this.end) throw new ProtocolDecodeError('unsigned varint runs past the end', start);
      const byte = this.buf[this.pos++]!;
      if (shift === 28 && byte > 0x0f) throw new ProtocolDecodeError('unsigned varint is longer than 32 bits', start);
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new ProtocolDecodeError('unsigned varint is longer than 5 bytes', start);
  }

  // Lengths. A classic length is an int16 or int32 where -1 means null; a compact one is a uvarint
  // holding length + 1, where 0 means null. Anything else negative is malformed.

  private length(n: number, at: number, nullable: boolean, what: string): number {
    if (n === -1) {
      if (!nullable) throw new ProtocolDecodeError(`${what} is null but the field is not nullable`, at);
      return -1;
    }
    if (n < 0) throw new ProtocolDecodeError(`${what} has negative length ${n}`, at);
    if (n > this.end - this.pos) throw new ProtocolDecodeError(`${what} claims ${n} bytes but ${this.end - this.pos} are left`, at);
    return n;
  }

  private stringOf(n: number): string {
    const at = this.pos;
    this.pos = at + n;
    return this.buf.toString('utf8', at, at + n);
  }

  private bytesOf(n: number): Buffer {
    const at = this.pos;
    this.pos = at + n;
    return this.buf.subarray(at, at + n);
  }

  string(): string {
    const at = this.pos;
    return this.stringOf(this.length(this.int16(), at, false, 'string'));
  }
  nullableString(): string | null {
    const at = this.pos;
    const n = this.length(this.int16(), at, true, 'string');
    return n < 0 ? null : this.stringOf(n);
  }
  compactString(): string {
    const at = this.pos;
    return this.stringOf(this.compactStringLength(at, false));
  }
  compactNullableString(): string | null {
    const at = this.pos;
    const n = this.compactStringLength(at, true);
    return n < 0 ? null : this.stringOf(n);
  }
  private compactStringLength(at: number, nullable: boolean): number {
    const n = this.uvarint() - 1;
    if (n > STRING_BYTES_MAX) throw new ProtocolDecodeError(`compact string of ${n} bytes exceeds the ${STRING_BYTES_MAX}-byte string limit`, at);
    return this.length(n, at, nullable, 'compact string');
  }

  /** Bytes are returned as a view into the frame, not a copy. */
  bytes(): Buffer {
    const at = this.pos;
    return this.bytesOf(this.length(this.int32(), at, false, 'bytes'));
  }
  nullableBytes(): Buffer | null {
    const at = this.pos;
    const n = this.length(this.int32(), at, true, 'bytes');
    return n < 0 ? null : this.bytesOf(n);
  }
  compactBytes(): Buffer {
    const at = this.pos;
    return this.bytesOf(this.length(this.uvarint() - 1, at, false, 'compact bytes'));
  }
  compactNullableBytes(): Buffer | null {
    const at = this.pos;
    const n = this.length(this.uvarint() - 1, at, true, 'compact bytes');
    return n < 0 ? null : this.bytesOf(n);
  }

  /** Reads an array count and checks it against the bytes left: `elementMinBytes` is a lower bound on
   *  one element's size at this version, so a count of billions in a short frame fails here, before
   *  any element is read. Returns -1 for a null array. */
  private count(n: number, at: number, nullable: boolean, elementMinBytes: number): number {
    if (n === -1) {
      if (!nullable) throw new ProtocolDecodeError('array is null but the field is not nullable', at);
      return -1;
    }
    if (n < 0) throw new ProtocolDecodeError(`array has negative length ${n}`, at);
    if (n * Math.max(1, elementMinBytes) > this.end - this.pos) {
      throw new ProtocolDecodeError(`array claims ${n} elements but only ${this.end - this.pos} bytes are left`, at);
    }
    return n;
  }
  arrayLength(nullable: boolean, elementMinBytes: number): number {
    const at = this.pos;
    return this.count(this.int32(), at, nullable, elementMinBytes);
  }
  compactArrayLength(nullable: boolean, elementMinBytes: number): number {
    const at = this.pos;
    return this.count(this.uvarint() - 1, at, nullable, elementMinBytes);
  }

  /** The presence byte of a nullable struct: Kafka writes -1 for null and 1 for present, and reads
   *  any negative byte as null and any other as present. */
  structPresent(): boolean {
    return this.int8() >= 0;
  }

  /** Starts one tagged field: reads its size, checks it, returns the offset where it ends. */
  taggedFieldEnd(): number {
    const at = this.pos;
    const size = this.uvarint();
    if (size > this.end - this.pos) throw new ProtocolDecodeError(`tagged field claims ${size} bytes but ${this.end - this.pos} are left`, at);
    return this.pos + size;
  }

  /** Finishes a known tagged field: it must not have read past its declared size. A newer sender may
   *  have appended bytes this version does not know; those are skipped. */
  endTaggedField(end: number, tag: number): void {
    if (this.pos > end) throw new ProtocolDecodeError(`tagged field ${tag} overran its declared size`, this.pos);
    this.pos = end;
  }

  /** An unknown tagged field, copied so it does not pin the whole frame in memory. */
  unknownTaggedField(tag: number, end: number): TaggedField {
    if (--this.unknownTagsLeft < 0) throw new ProtocolDecodeError(`more than ${UNKNOWN_TAGGED_FIELDS_MAX} unknown tagged fields`, this.pos);
    const data = Buffer.from(this.buf.subarray(this.pos, end));
    this.pos = end;
    return { tag, data };
  }
}

const INITIAL_WRITER_BYTES = 256;
/** Bytes and records values at least this large are not copied into the writer's buffer: they are
 *  kept by reference and handed to the socket as their own chunk (writev). */
const ZERO_COPY_MIN_BYTES = 4096;

export class Writer {
  private chunks: Buffer[] = [];
  private buf: Buffer;
  private pos = 0;
  private flushedBytes = 0;

  constructor(initialBytes = INITIAL_WRITER_BYTES) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.flushedBytes + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }
  int8(v: number): void {
    this.ensure(1);
    this.pos = this.buf.writeInt8(v, this.pos);
  }
  int16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
  }
  uint16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }
  int32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
  }
  uint32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
  }
  int64(v: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigInt64BE(v, this.pos);
  }
  float64(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }
  uuid(v: Uuid): void {
    const raw = Buffer.from(v, 'base64url');
    if (raw.length !== 16 || raw.toString('base64url') !== v) throw new ProtocolEncodeError(`'${v}' is not a 22-character base64url uuid`);
    this.raw(raw);
  }

  uvarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ProtocolEncodeError(`unsigned varint out of range: ${v}`);
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** Copies small buffers in; keeps large ones by reference as their own output chunk. */
  raw(b: Buffer): void {
    if (b.length >= ZERO_COPY_MIN_BYTES) {
      if (this.pos > 0) {
        this.chunks.push(this.buf.subarray(0, this.pos));
        this.flushedBytes += this.pos;
        this.buf = Buffer.allocUnsafe(Math.max(INITIAL_WRITER_BYTES, this.buf.length - this.pos));
        this.pos = 0;
      }
      this.chunks.push(b);
      this.flushedBytes += b.length;
      return;
    }
    this.ensure(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  private utf8(s: string, n: number): void {
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  string(s: string): void {
    if (s === null) throw new ProtocolEncodeError('null written to a non-nullable string');
    const n = Buffer.byteLength(s, 'utf8');
    if (n > STRING_BYTES_MAX) throw new ProtocolEncodeError(`string of ${n} bytes exceeds the ${STRING_BYTES_MAX}-byte string limit`);
    this.int16(n);
    this.utf8(s, n);
  }
  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }
  compactString(s: string): void {
    if (s === null) throw new ProtocolEncodeError('null written to a non-nullable string');
    const n = Buffer.byteLength(s, 'utf8');
    if (n > STRING_BYTES_MAX) throw new ProtocolEncodeError(`string of ${n} bytes exceeds the ${STRING_BYTES_MAX}-byte string limit`);
    this.uvarint(n + 1);
    this.utf8(s, n);
  }
  compactNullableString(s: string | null): void {
    if (s === null) this.uvarint(0);
    else this.compactString(s);
  }

  bytes(b: Buffer): void {
    if (b === null) throw new ProtocolEncodeError('null written to non-nullable bytes');
    this.int32(b.length);
    this.raw(b);
  }
  nullableBytes(b: Buffer | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }
  compactBytes(b: Buffer): void {
    if (b === null) throw new ProtocolEncodeError('null written to non-nullable bytes');
    this.uvarint(b.length + 1);
    this.raw(b);
  }
  compactNullableBytes(b: Buffer | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }

  arrayLength(a: readonly unknown[] | null, nullable: boolean): void {
    if (a === null) {
      if (!nullable) throw new ProtocolEncodeError('null written to a non-nullable array');
      this.int32(-1);
    } else this.int32(a.length);
  }
  compactArrayLength(a: readonly unknown[] | null, nullable: boolean): void {
    if (a === null) {
      if (!nullable) throw new ProtocolEncodeError('null written to a non-nullable array');
      this.uvarint(0);
    } else this.uvarint(a.length + 1);
  }

  /** Writes the tagged-field section: the count, then each field as tag, size, data, in ascending
   *  tag order as the protocol requires. */
  taggedFields(fields: TaggedField[] | undefined): void {
    if (fields === undefined || fields.length === 0) {
      this.uvarint(0);
      return;
    }
    let sorted = fields;
    for (let i = 1; i < fields.length; i++) {
      if (fields[i - 1]!.tag >= fields[i]!.tag) {
        sorted = fields.slice().sort((a, b) => a.tag - b.tag);
        break;
      }
    }
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i - 1]!.tag === sorted[i]!.tag) throw new ProtocolEncodeError(`tag ${sorted[i]!.tag} is written twice (a known field and an unknown one share it)`);
    }
    this.uvarint(sorted.length);
    for (const f of sorted) {
      this.uvarint(f.tag);
      this.uvarint(f.data.length);
      this.raw(f.data);
    }
  }

  /** The output as a list of chunks, ready for writev; large payloads are not copied. */
  chunksOut(): Buffer[] {
    if (this.pos > 0) return [...this.chunks, this.buf.subarray(0, this.pos)];
    return this.chunks.slice();
  }

  /** The output as one buffer (copies when there is more than one chunk). */
  toBuffer(): Buffer {
    const out = this.chunksOut();
    if (out.length === 1) return out[0]!;
    return Buffer.concat(out, this.length);
  }
}

/** Encodes one tagged field's value on its own, since its size must precede it. */
export function taggedField(tag: number, write: (w: Writer) => void): TaggedField {
  const w = new Writer(32);
  write(w);
  return { tag, data: w.toBuffer() };
}

/** The default for bytes fields. Zero-length, so sharing one instance is safe. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);
