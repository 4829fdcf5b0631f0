// The broker's Prometheus series, read from its metric registry (broker/observability/metrics.ts),
// and the series a PromQL expression names: the dashboards and alert rules the chart ships may
// only query what a broker serves.
import { BrokerMetrics } from '../../broker/observability/metrics.js';

/** Labels Prometheus adds to every scraped series (the Prometheus Operator's target labels). */
export const TARGET_LABELS = new Set(['namespace', 'service', 'pod', 'job', 'instance', 'endpoint', 'container']);
/** Series Prometheus itself produces for each target. */
const PROMETHEUS_SERIES = new Set(['up']);

/** Every series name a broker serves, with its labels: a histogram as _bucket (with le), _sum and _count. */
export function brokerSeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const m of new BrokerMetrics().registry.getMetricsAsArray()) {
    const labels = new Set<string>((m as { labelNames?: readonly string[] }).labelNames ?? []);
    if (String(m.type) === 'histogram') {
      series.set(`${m.name}_bucket`, new Set([...labels, 'le']));
      series.set(`${m.name}_sum`, labels);
      series.set(`${m.name}_count`, labels);
    } else series.set(m.name, labels);
  }
  for (const s of PROMETHEUS_SERIES) series.set(s, new Set());
  return series;
}

const PROMQL_WORDS = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'topk', 'bottomk', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'and', 'or', 'unless', 'rate', 'irate', 'increase', 'deriv', 'delta', 'absent', 'histogram_quantile', 'max_over_time',
  'label_values', 'bool', 'offset',
]);

/** Series names an expression selects: identifiers that are neither PromQL words, label names
 *  inside {...} or by (...), nor template variables ($namespace, $__rate_interval). */
export function seriesIn(expr: string): string[] {
  const names = new Set<string>();
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, '{}') // matchers
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\[[^\]]*\]/g, '[]') // ranges
    .replace(/\$\w+/g, '');
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) if (!PROMQL_WORDS.has(m[0])) names.add(m[0]);
  return [...names];
}

/** Labels an expression groups by or matches on. */
export function labelsIn(expr: string): string[] {
  const labels = new Set<string>();
  for (const m of expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) for (const l of m[1]!.split(',')) if (l.trim() !== '') labels.add(l.trim());
  for (const m of expr.matchAll(/\{([^}]*)\}/g)) for (const l of m[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.add(l[1]!);
  return [...labels];
}

/** What is wrong with an expression against the broker's series, one line each. */
export function seriesProblems(expr: string, series = brokerSeries()): string[] {
  const problems: string[] = [];
  const used = seriesIn(expr);
  if (used.length === 0) problems.push(`${expr}: selects no series`);
  const labels = new Set<string>(TARGET_LABELS);
  for (const s of used) {
    const known = series.get(s);
    if (known === undefined) problems.push(`${expr}: ${s} is not a broker metric`);
    else for (const l of known) labels.add(l);
  }
  for (const l of labelsIn(expr)) if (!labels.has(l)) problems.push(`${expr}: label ${l} is on none of ${used.join(', ')}`);
  return problems;
}
