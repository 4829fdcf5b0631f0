// InitProducerId (key 22), v0-5 (v6 is unstable in the definitions and never advertised). Without a
// transactional id it hands an idempotent producer a fresh producer id at epoch 0; ids never repeat,
// even across restarts. Transactional ids need the transaction coordinator, which Strata does not
// have yet: they get COORDINATOR_NOT_AVAILABLE. An empty transactional id is INVALID_REQUEST, as in
// Kafka (null, not empty, means "no transactions").
import type * as G from '../protocol/generated/index.js';
import { defaultInitProducerIdResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext } from './context.js';

export const initProducerIdHandler: ApiHandler = {
  apiKey: 22,
  minVersion: 0,
  maxVersion: 5,
  handle: (ctx: BrokerContext, req: G.InitProducerIdRequest): G.InitProducerIdResponse => {
    const res = defaultInitProducerIdResponse();
    if (req.transactionalId === '') {
      res.errorCode = ErrorCode.INVALID_REQUEST;
      return res;
    }
    if (req.transactionalId !== null) {
      res.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return res;
    }
    res.producerId = ctx.producerIds.next();
    res.producerEpoch = 0;
    return res;
  },
};
