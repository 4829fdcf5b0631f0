// IncrementalAlterConfigs (key 44), v0-1: SET (0), DELETE (1, back to the broker default), APPEND (2)
// and SUBTRACT (3, list keys only) applied to a topic's current overrides, then validated as a whole
// (INVALID_CONFIG naming the key). One key twice in a resource, or an unknown operation, is
// INVALID_REQUEST. ValidateOnly changes nothing. For the broker (resource name "" for the
// cluster-wide default, or this broker's id) the operations apply to that dynamic layer; only the
// broker keys that are topic config defaults (DYNAMIC_BROKER_KEYS) can change at run time
// (INVALID_REQUEST for others).
import type * as G from '../protocol/generated/index.js';
import { defaultIncrementalAlterConfigsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext } from './context.js';
import { resolveResource } from './config-resources.js';

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

function listOf(value: string | undefined): string[] {
  return value === undefined || value === '' ? [] : value.split(',').map((v) => v.trim());
}

export const incrementalAlterConfigsHandler: ApiHandler = {
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  handle: (ctx: BrokerContext, req: G.IncrementalAlterConfigsRequest): G.IncrementalAlterConfigsResponse => {
    const res = defaultIncrementalAlterConfigsResponse();
    res.responses = req.resources.map((r) => {
      const out = { errorCode: ErrorCode.NONE as number, errorMessage: null as string | null, resourceType: r.resourceType, resourceName: r.resourceName };
      const fail = (errorCode: number, errorMessage: string) => ({ ...out, errorCode, errorMessage });
      const resolved = resolveResource(ctx, r.resourceType, r.resourceName);
      if (resolved.kind === 'error') return fail(resolved.errorCode, resolved.message);
      const seen = new Set<string>();
      const next: Record<string, string> = { ...(resolved.kind === 'broker' ? ctx.brokerConfig.layer(resolved.scope) : resolved.topic.configs) };
      for (const c of r.configs) {
        if (seen.has(c.name)) return fail(ErrorCode.INVALID_REQUEST, `config '${c.name}' appears more than once`);
        seen.add(c.name);
        switch (c.configOperation) {
          case SET:
            if (c.value === null) return fail(ErrorCode.INVALID_CONFIG, `null value for config '${c.name}'`);
            next[c.name] = c.value;
            break;
          case DELETE:
            delete next[c.name];
            break;
          case APPEND:
          case SUBTRACT: {
            if (!ctx.topicConfigs.isList(c.name)) return fail(ErrorCode.INVALID_CONFIG, `config '${c.name}' is not a list, so it cannot be appended to or subtracted from`);
            const current = listOf(next[c.name] ?? ctx.topicConfigs.describe(next).find((e) => e.name === c.name)?.value ?? undefined);
            const items = listOf(c.value ?? undefined);
            const updated = c.configOperation === APPEND ? [...current, ...items.filter((i) => !current.includes(i))] : current.filter((i) => !items.includes(i));
            next[c.name] = updated.join(',');
            break;
          }
          default:
            return fail(ErrorCode.INVALID_REQUEST, `unknown config operation ${c.configOperation} for '${c.name}'`);
        }
      }
      if (resolved.kind === 'broker') {
        const refused = ctx.brokerConfig.replace(resolved.scope, next, req.validateOnly);
        if (refused !== null) return fail(refused.errorCode, refused.message);
        if (!req.validateOnly) ctx.topics.refreshLogConfigs();
        return out;
      }
      const problem = ctx.topicConfigs.problem(next, resolved.topic.configs);
      if (problem !== null) return fail(ErrorCode.INVALID_CONFIG, problem.message);
      if (!req.validateOnly) {
        // Tiering turned off (with remote.log.delete.on.disable): the remote copy goes in the background.
        if (ctx.topics.setConfigs(resolved.topic.name, next).remoteStorageDisabled) ctx.tiered?.remoteStorageDisabled(resolved.topic.name, resolved.topic.id);
      }
      return out;
    });
    return res;
  },
};
