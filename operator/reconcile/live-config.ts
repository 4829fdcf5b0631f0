// Which broker keys of a cluster's configuration go live and which need a restart, and what to send
// a running broker so that its live keys match the spec. The broker declares which keys it can
// change at run time (DYNAMIC_BROKER_KEYS, in broker/config: the broker keys that are topic config
// defaults); nothing here repeats that list.
//
//   - splitBrokerConfig: the rendered server.properties entries split in two. Only the restart
//     part feeds RenderedBrokerConfig.restartHash, which the pod template carries when the
//     controller applies live keys (RenderOptions.liveConfig), so a change to live keys alone rolls
//     no pod; the ConfigMap still carries every key, so a pod that restarts later starts with the
//     new values.
//   - planLiveConfig: IncrementalAlterConfigs operations on one broker (resource BROKER, name =
//     node id) from what DescribeConfigs reports for it. A key of the spec whose value differs is
//     SET. A key the spec no longer has goes back to the broker's default: DELETE when it sits in
//     the broker's dynamic layer, or SET to the default when the broker still runs with the value
//     its server.properties had when it started (the pod has not restarted since the key left the
//     spec). A key without a default (log.retention.ms, which falls back to log.retention.hours)
//     cannot be SET back to "unset", so a removed one keeps its file value until the pod restarts.
import { brokerKey, DYNAMIC_BROKER_KEYS, formatValue, parseValue } from '../../broker/config/index.js';

/** DescribeConfigs config sources this planning reads. */
const DYNAMIC_BROKER_CONFIG = 2;

export function isLiveKey(key: string): boolean {
  return DYNAMIC_BROKER_KEYS.has(key);
}

export interface SplitConfig {
  /** Entries that take a restart, in the order given. */
  readonly restart: [string, string][];
  /** Entries a running broker takes through IncrementalAlterConfigs. */
  readonly live: Record<string, string>;
}

export function splitBrokerConfig(entries: readonly (readonly [string, string])[]): SplitConfig {
  const restart: [string, string][] = [];
  const live: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (isLiveKey(k)) live[k] = v;
    else restart.push([k, v]);
  }
  return { restart, live };
}

/** One key of a broker's DescribeConfigs answer. */
export interface ObservedBrokerConfig {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

export interface LivePlan {
  readonly set: Record<string, string>;
  readonly delete: string[];
}

/** The value as the broker prints it, so "1e3"-style spellings and spaces compare equal. */
function normalized(key: string, text: string): string {
  const def = brokerKey(key);
  if (def === undefined) return text;
  const r = parseValue(def, text);
  return r.ok ? (formatValue(def, r.value) ?? text) : text;
}

function defaultText(key: string): string | null {
  const def = brokerKey(key);
  return def === undefined ? null : formatValue(def, def.default);
}

export function planLiveConfig(live: Readonly<Record<string, string>>, observed: readonly ObservedBrokerConfig[]): LivePlan {
  const set: Record<string, string> = {};
  const del: string[] = [];
  const seen = new Set<string>();
  for (const o of observed) {
    if (!isLiveKey(o.name)) continue;
    seen.add(o.name);
    const want = live[o.name];
    if (want !== undefined) {
      if (o.value === null || o.value !== normalized(o.name, want)) set[o.name] = want;
      continue;
    }
    const dflt = defaultText(o.name);
    if (o.value === dflt) continue;
    if (o.source === DYNAMIC_BROKER_CONFIG) del.push(o.name);
    else if (dflt !== null) set[o.name] = dflt;
  }
  // A key the broker did not describe (an older broker): send it, the broker decides.
  for (const [k, v] of Object.entries(live)) if (!seen.has(k)) set[k] = v;
  return { set: Object.fromEntries(Object.entries(set).sort(([a], [b]) => (a < b ? -1 : 1))), delete: del.sort() };
}

export function livePlanEmpty(p: LivePlan): boolean {
  return Object.keys(p.set).length === 0 && p.delete.length === 0;
}

/** "a=1, b=2, c reset" for Events. */
export function describeLivePlan(p: LivePlan): string {
  return [...Object.entries(p.set).map(([k, v]) => `${k}=${v}`), ...p.delete.map((k) => `${k} reset`)].join(', ');
}
