// AlterConfigs (key 33), v0-2: replaces a topic's whole set of overrides (keys not listed return to
// the broker default). Every key must be a topic key with a valid value (INVALID_CONFIG naming it);
// ValidateOnly changes nothing. For the broker (resource name "" for the cluster-wide default, or
// this broker's id) it replaces that dynamic layer; only the broker keys that are topic config
// defaults (DYNAMIC_BROKER_KEYS) can change at run time (INVALID_REQUEST for others), and every topic
// without its own override follows at once.
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
      if (resolved.kind === 'broker') {
        const next: Record<string, string> = {};
        for (const c of r.configs) {
          if (c.value === null) return { ...out, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `null value for config '${c.name}'` };
          next[c.name] = c.value;
        }
        const refused = ctx.brokerConfig.replace(resolved.scope, next, req.validateOnly);
        if (refused !== null) return { ...out, errorCode: refused.errorCode, errorMessage: refused.message };
        if (!req.validateOnly) ctx.topics.refreshLogConfigs();
        return out;
      }
      const next: Record<string, string | null> = {};
      for (const c of r.configs) next[c.name] = c.value;
      const problem = ctx.topicConfigs.problem(next, resolved.topic.configs);
      if (problem !== null) return { ...out, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem.message };
      if (!req.validateOnly) {
        // Tiering turned off (with remote.log.delete.on.disable): the remote copy goes in the background.
        if (ctx.topics.setConfigs(resolved.topic.name, next as Record<string, string>).remoteStorageDisabled) ctx.tiered?.remoteStorageDisabled(resolved.topic.name, resolved.topic.id);
      }
      return out;
    });
    return res;
  },
};
