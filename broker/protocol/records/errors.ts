// Errors raised while decoding or encoding record batches. Each carries a stable `code` so the request
// layer can map it to a wire error without matching on messages. Where Kafka has an error of the same
// meaning the code is that error's name, so the mapping is by name.

export type RecordsErrorCode = 'CORRUPT_MESSAGE' | 'UNSUPPORTED_COMPRESSION_TYPE' | 'DECOMPRESSION_LIMIT_EXCEEDED';

export abstract class RecordsError extends Error {
  abstract readonly code: RecordsErrorCode;
}

/** Bytes that do not form a valid v2 record batch (lengths, magic, CRC, varints, record layout). */
export class CorruptRecordError extends RecordsError {
  override readonly name = 'CorruptRecordError';
  readonly code = 'CORRUPT_MESSAGE' as const;
}

/** A compression id in the batch attributes that Strata does not implement (5, 6 and 7 are unassigned). */
export class UnsupportedCompressionError extends RecordsError {
  override readonly name = 'UnsupportedCompressionError';
  readonly code = 'UNSUPPORTED_COMPRESSION_TYPE' as const;
  constructor(readonly codecId: number) {
    super(
      `unsupported compression type id ${codecId} in record batch attributes; ` +
        'supported ids: 0 (none), 1 (gzip), 2 (snappy), 3 (lz4), 4 (zstd)',
    );
  }
}

/**
 * Decompressed output would exceed the caller's limit. Kafka has no equivalent error: its broker trusts
 * the codec. Strata refuses, because a batch of a few kilobytes can claim (and produce) gigabytes.
 */
export class DecompressionLimitError extends RecordsError {
  override readonly name = 'DecompressionLimitError';
  readonly code = 'DECOMPRESSION_LIMIT_EXCEEDED' as const;
  constructor(
    readonly codecName: string,
    readonly limit: number,
    detail: string,
  ) {
    super(`${codecName} data decompresses past the limit of ${limit} bytes (${detail})`);
  }
}
