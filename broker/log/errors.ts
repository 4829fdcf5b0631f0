// Errors the log throws. Outcomes a Kafka client must see (a bad CRC, a sequence gap, an offset out
// of range, a failed disk) are LogErrors carrying the Kafka error code as data; the request layer
// copies `errorCode` into the partition's response. Broken invariants are node:assert failures and
// are never caught here.

/** The Kafka error codes the log produces (numbers as on the wire). */
export const LogErrorCode = {
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  MESSAGE_TOO_LARGE: 10,
  RECORD_LIST_TOO_LARGE: 18,
  INVALID_TIMESTAMP: 32,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  KAFKA_STORAGE_ERROR: 56,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
  OFFSET_MOVED_TO_TIERED_STORAGE: 109,
} as const;
export type LogErrorName = keyof typeof LogErrorCode;

export class LogError extends Error {
  override readonly name = 'LogError';
  /** Kafka's error name, e.g. CORRUPT_MESSAGE. */
  readonly code: LogErrorName;
  /** Kafka's numeric error code, e.g. 2. */
  readonly errorCode: number;

  constructor(code: LogErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.errorCode = LogErrorCode[code];
  }
}

/** A disk operation failed (or stored bytes turned out corrupt): KAFKA_STORAGE_ERROR, cause kept. */
export function storageError(message: string, cause: unknown): LogError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new LogError('KAFKA_STORAGE_ERROR', `${message}${detail}`, { cause });
}
