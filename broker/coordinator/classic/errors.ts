// The Kafka error codes the classic group protocol answers with, by Kafka's names and numbers.
// `broker/protocol/error-codes.ts` does not list the group codes yet; once it does, these should
// come from there (same names, same numbers).

export const ClassicErrorCode = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  KAFKA_STORAGE_ERROR: 56,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
} as const;
export type ClassicErrorCode = (typeof ClassicErrorCode)[keyof typeof ClassicErrorCode];

/**
 * The error a request gets when writing the group's metadata to __consumer_offsets failed, as
 * Kafka maps append errors for group metadata: a missing or unavailable partition asks the client
 * to retry (COORDINATOR_NOT_AVAILABLE), a lost leadership or a failed disk sends it to find the
 * coordinator again (NOT_COORDINATOR), a too-large write is the server's fault. `appendError` is
 * the Kafka code the append failed with, or undefined when the failure carried none (then the
 * client is asked to retry).
 */
export function appendErrorToResponseError(appendError: number | undefined): number {
  switch (appendError) {
    case undefined:
    case ClassicErrorCode.NONE:
    case ClassicErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ClassicErrorCode.NOT_ENOUGH_REPLICAS:
    case ClassicErrorCode.REQUEST_TIMED_OUT:
      return ClassicErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ClassicErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ClassicErrorCode.KAFKA_STORAGE_ERROR:
      return ClassicErrorCode.NOT_COORDINATOR;
    case ClassicErrorCode.MESSAGE_TOO_LARGE:
    case ClassicErrorCode.RECORD_LIST_TOO_LARGE:
    case ClassicErrorCode.INVALID_FETCH_SIZE:
      return ClassicErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return appendError;
  }
}

/** The Kafka code a persistence failure carries: an `errorCode` number property, if any. */
export function errorCodeOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'errorCode' in err) {
    const code = (err as { errorCode: unknown }).errorCode;
    if (typeof code === 'number' && Number.isInteger(code)) return code;
  }
  return undefined;
}
