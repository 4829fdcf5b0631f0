// The Kafka error codes the consumer group protocol answers with, by Kafka's names and numbers.
// `broker/protocol/error-codes.ts` does not list the group codes yet; once it does, these should
// come from there (same names, same numbers).

export const GroupErrorCode = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  ILLEGAL_GENERATION: 22,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  UNSUPPORTED_VERSION: 35,
  INVALID_REQUEST: 42,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
  INVALID_REGULAR_EXPRESSION: 128,
} as const;
export type GroupErrorCode = (typeof GroupErrorCode)[keyof typeof GroupErrorCode];

/**
 * A Kafka error answer found while checking a request. It is thrown only between a public
 * method's entry and its first state change, and caught in that same method, which turns it into
 * the response's error code and message; it never leaves this folder. (Checking before changing
 * anything is what lets one request be all-or-nothing: see `ConsumerGroups.heartbeat`.)
 */
export class GroupError extends Error {
  constructor(
    readonly code: GroupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GroupError';
  }
}
