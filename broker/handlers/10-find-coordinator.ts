// FindCoordinator (key 10), v0-6. This broker coordinates every group (key type 0): the answer is its
// own address once the group's __consumer_offsets partition exists, or the coordinator's error (for
// example COORDINATOR_LOAD_IN_PROGRESS is not used here: clients find the coordinator, then retry
// their group request). Transactions (key type 1) have no coordinator yet: COORDINATOR_NOT_AVAILABLE,
// matching InitProducerId. Share groups (key type 2, v6) are not served: INVALID_REQUEST, as is any
// other key type. v0-3 ask for one key; v4+ for a batch, each answered on its own.
import type * as G from '../protocol/generated/index.js';
import { defaultFindCoordinatorResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

function coordinatorError(ctx: BrokerContext, keyType: number, key: string): number {
  if (keyType === KEY_TYPE_GROUP) return ctx.groups.findGroupCoordinator(key);
  if (keyType === KEY_TYPE_TRANSACTION) return key === '' ? ErrorCode.INVALID_REQUEST : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  return ErrorCode.INVALID_REQUEST;
}

function messageFor(errorCode: number, keyType: number): string | null {
  if (errorCode === ErrorCode.NONE) return null;
  if (keyType === KEY_TYPE_TRANSACTION && errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) return 'Strata has no transaction coordinator yet';
  if (keyType !== KEY_TYPE_GROUP && keyType !== KEY_TYPE_TRANSACTION) return `unsupported coordinator key type ${keyType}`;
  return null;
}

export const findCoordinatorHandler: ApiHandler = {
  apiKey: 10,
  minVersion: 0,
  maxVersion: 6,
  handle: (ctx: BrokerContext, req: G.FindCoordinatorRequest, info: RequestInfo): G.FindCoordinatorResponse => {
    const res = defaultFindCoordinatorResponse();
    const { nodeId, host, port } = ctx.identity;
    if (info.version < 4) {
      const errorCode = coordinatorError(ctx, req.keyType, req.key);
      res.errorCode = errorCode;
      res.errorMessage = messageFor(errorCode, req.keyType);
      if (errorCode === ErrorCode.NONE) Object.assign(res, { nodeId, host, port });
      else Object.assign(res, { nodeId: -1, host: '', port: -1 });
      return res;
    }
    res.coordinators = req.coordinatorKeys.map((key) => {
      const errorCode = coordinatorError(ctx, req.keyType, key);
      return errorCode === ErrorCode.NONE
        ? { key, nodeId, host, port, errorCode, errorMessage: null }
        : { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage: messageFor(errorCode, req.keyType) };
    });
    return res;
  },
};
