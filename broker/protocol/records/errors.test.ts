import { describe, expect, it } from 'vitest';
import { CorruptRecordError, DecompressionLimitError, RecordsError, UnsupportedCompressionError } from './errors.js';

describe('records errors', () => {
  it('carry stable codes and names', () => {
    const corrupt = new CorruptRecordError('bad');
    expect(corrupt).toBeInstanceOf(RecordsError);
    expect(corrupt).toBeInstanceOf(Error);
    expect(corrupt.code).toBe('CORRUPT_MESSAGE');
    expect(corrupt.name).toBe('CorruptRecordError');

    const codec = new UnsupportedCompressionError(6);
    expect(codec.code).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    expect(codec.codecId).toBe(6);
    expect(codec.message).toMatch(/id 6/);
    expect(codec.message).toMatch(/0 \(none\), 1 \(gzip\), 2 \(snappy\), 3 \(lz4\), 4 \(zstd\)/);

    const limit = new DecompressionLimitError('zstd', 1024, 'frame declares 4096 bytes');
    expect(limit.code).toBe('DECOMPRESSION_LIMIT_EXCEEDED');
    expect(limit.limit).toBe(1024);
    expect(limit.message).toMatch(/zstd.*1024.*4096/);
  });

  it('keeps a cause', () => {
    const inner = new Error('inner');
    expect(new CorruptRecordError('outer', { cause: inner }).cause).toBe(inner);
  });
});
