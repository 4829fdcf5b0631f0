// Maps what the partition log throws to a Kafka error code. Errors that carry a Kafka code are
// expected outcomes (bad CRC, sequence gaps); anything else is a storage failure, logged, and answered
// with KAFKA_STORAGE_ERROR so the broker keeps serving everyone else.
import { ErrorCode } from '../protocol/error-codes.js';
import type { BrokerContext } from './context.js';

export function errorCodeOf(ctx: BrokerContext, e: unknown, where: Record<string, unknown>): number {
  const code = (e as { errorCode?: unknown }).errorCode;
  if (typeof code === 'number') return code;
  ctx.log.error('log operation failed', { ...where, err: e });
  return ErrorCode.KAFKA_STORAGE_ERROR;
}
