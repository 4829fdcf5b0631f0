// DescribeConfigs (key 32), v1-4, for topics and this broker. ConfigurationKeys null means every
// key; unknown names in the list are left out, as Kafka does. Synonyms (v1+) and documentation (v3+)
// only when asked for. Unknown topic: UNKNOWN_TOPIC_OR_PARTITION; another broker or another
// resource type: INVALID_REQUEST.
import type * as G from '../protocol/generated/index.js';
import { defaultDescribeConfigsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, DescribedConfig, RequestInfo } from './context.js';
import { resolveResource } from './config-resources.js';

export const describeConfigsHandler: ApiHandler = {
  apiKey: 32,
  minVersion: 1,
  maxVersion: 4,
  handle: (ctx: BrokerContext, req: G.DescribeConfigsRequest, info: RequestInfo): G.DescribeConfigsResponse => {
    const res = defaultDescribeConfigsResponse();
    res.results = req.resources.map((r) => {
      const out: G.DescribeConfigsResponseDescribeConfigsResult = {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [],
      };
      const resolved = resolveResource(ctx, r.resourceType, r.resourceName);
      if (resolved.kind === 'error') return { ...out, errorCode: resolved.errorCode, errorMessage: resolved.message };
      let entries: DescribedConfig[] = resolved.kind === 'topic' ? ctx.topicConfigs.describe(resolved.topic.configs) : ctx.brokerConfig.describe();
      if (r.configurationKeys !== null) {
        const wanted = new Set(r.configurationKeys);
        entries = entries.filter((e) => wanted.has(e.name));
      }
      out.configs = entries.map((e) => ({
        name: e.name,
        value: e.value,
        readOnly: e.readOnly,
        configSource: e.source,
        isSensitive: e.sensitive,
        synonyms: req.includeSynonyms ? e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })) : [],
        configType: info.version >= 3 ? e.configType : 0,
        documentation: info.version >= 3 && req.includeDocumentation ? e.documentation : null,
      }));
      return out;
    });
    return res;
  },
};
