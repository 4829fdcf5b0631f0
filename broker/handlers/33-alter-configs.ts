// AlterConfigs (key 33), v0-2: replaces a topic's whole set of overrides (keys not listed return to
// the broker default). Every key must be a topic key with a valid value (INVALID_CONFIG naming it);
// ValidateOnly changes nothing. Broker configs are static in Strata: INVALID_REQUEST.
import type * as G from '../protocol/generated/index.js';
import { defaultAlterConfigsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext } from './context.js';
import { resolveResource } from './config-resources.js';

export const alterConfigsHandler: ApiHandler = {
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  handle: (ctx: BrokerContext, req: G.AlterConfigsRequest): G.AlterConfigsResponse => {
    const res = defaultAlterConfigsResponse();
    res.responses = req.resources.map((r) => {
      const out = { errorCode: ErrorCode.NONE as number, errorMessage: null as string | null, resourceType: r.resourceType, resourceName: r.resourceName };
      const resolved = resolveResource(ctx, r.resourceType, r.resourceName);
      if (resolved.kind === 'error') return { ...out, errorCode: resolved.errorCode, errorMessage: resolved.message };
      if (resolved.kind === 'broker') return { ...out, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'broker configs are static in Strata; set them in server.properties' };
      const next: Record<string, string | null> = {};
      for (const c of r.configs) next[c.name] = c.value;
      const problem = ctx.topicConfigs.problem(next);
      if (problem !== null) return { ...out, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem.message };
      if (!req.validateOnly) ctx.topics.setConfigs(resolved.topic.name, next as Record<string, string>);
      return out;
    });
    return res;
  },
};
