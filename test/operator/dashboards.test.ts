// The Grafana dashboards the chart ships (charts/strata-operator/dashboards/) are valid dashboard
// JSON, and every query names only series and labels the broker's metric registry serves.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../broker/harness.js';
import { brokerSeries, labelsIn, seriesIn, seriesProblems } from './metric-names.js';

const DIR = path.join(REPO_ROOT, 'charts', 'strata-operator', 'dashboards');

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

function queries(d: Dashboard): string[] {
  const out: string[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) out.push(t.expr);
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    if (v.type !== 'query' || v.query === undefined) continue;
    // label_values(<selector>, <label>): the selector is a query like any other.
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(q);
    expect(m, `${d.uid} variable ${v.name}: ${q}`).not.toBeNull();
    out.push(`max by (${m![2]}) (${m![1]})`);
  }
  return out;
}

describe('the chart\'s Grafana dashboards', () => {
  it('are the consumer lag and broker dashboards', () => {
    expect(files).toEqual(['strata-brokers.json', 'strata-consumer-lag.json']);
  });

  it('are dashboard JSON with unique uids, titles and panel ids', () => {
    const uids = new Set<string>();
    for (const f of files) {
      const d = JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Dashboard;
      expect(d.uid, f).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(uids.has(d.uid), `${f}: uid ${d.uid} repeated`).toBe(false);
      uids.add(d.uid);
      expect(d.title, f).toMatch(/^Strata \/ /);
      const ids = d.panels.map((p) => (p as unknown as { id: number }).id);
      expect(new Set(ids).size, `${f}: panel ids`).toBe(ids.length);
      for (const p of d.panels) if (p.type !== 'row') expect(p.targets?.length, `${f}: ${p.title}`).toBeGreaterThan(0);
      expect(d.templating.list.map((v) => v.name), f).toEqual(expect.arrayContaining(['datasource', 'namespace', 'cluster']));
    }
  });

  it('query only series and labels a broker serves', () => {
    const series = brokerSeries();
    const used = new Set<string>();
    for (const f of files) {
      const d = JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Dashboard;
      for (const q of queries(d)) {
        expect(seriesProblems(q, series), `${f}`).toEqual([]);
        for (const s of seriesIn(q)) used.add(s);
      }
    }
    // What the issue asks the dashboards to show: consumer lag, throughput and the copies to the
    // object store (brokers do not replicate to each other yet).
    expect([...used]).toEqual(expect.arrayContaining(['kafka_consumergroup_lag', 'strata_topic_bytes_in_total', 'strata_topic_bytes_out_total', 'strata_remote_copy_bytes_total']));
  });
});

describe('the PromQL name check', () => {
  it('finds series and labels, and reports unknown ones', () => {
    expect(seriesIn('histogram_quantile(0.99, sum by (api, le) (rate(strata_request_duration_seconds_bucket{namespace="$namespace"}[$__rate_interval])))')).toEqual(['strata_request_duration_seconds_bucket']);
    expect(labelsIn('sum by (api, le) (x{namespace="a",service=~"b"})')).toEqual(['api', 'le', 'namespace', 'service']);
    expect(seriesProblems('sum(rate(strata_under_replicated_partitions[5m]))')).toEqual(['sum(rate(strata_under_replicated_partitions[5m])): strata_under_replicated_partitions is not a broker metric']);
    expect(seriesProblems('sum by (broker) (strata_partitions)')).toEqual(['sum by (broker) (strata_partitions): label broker is on none of strata_partitions']);
    expect(seriesProblems('sum by (topic) (strata_topic_bytes_in_total)')).toEqual([]);
    expect(seriesProblems('1 > 0')).toEqual(['1 > 0: selects no series']);
  });
});
