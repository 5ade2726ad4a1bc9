/**
 * packaging/grafana/zferry-dashboard.json cannot drift from the metrics: it parses, takes its
 * data source from a variable, every metric its queries name is one the daemon's registry
 * exports (a histogram's _bucket, _sum, _count included), every label a selector names is one
 * that metric has (or one Prometheus adds), and every zferry metric is on some panel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Histogram } from 'prom-client';
import { DaemonMetrics, METRIC_NAMES } from '../../../daemon/metrics/daemon-metrics.js';
import { repositoryRoot } from '../../helpers/rpc-wire.js';

interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  title: string;
  datasource?: { uid?: string };
  targets?: Target[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
}

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set([
  'sum',
  'rate',
  'increase',
  'histogram_quantile',
  'time',
  'label_values',
  'by',
  'without',
  'and',
  'or',
  'unless',
  'max',
  'min',
  'avg',
]);
/** Labels Prometheus adds to every series it scrapes. */
const TARGET_LABELS = ['instance', 'job'];

/** The metric names an expression reads, with the label names its selectors and groupings use. */
function readsOf(expr: string): Array<{ metric: string; labels: string[] }> {
  const reads: Array<{ metric: string; labels: string[] }> = [];
  // label_values(selector, label): the second argument is a label, not a metric.
  const cleaned = expr.replace(/label_values\(([^,]+),\s*(\w+)\)/g, (_all, selector: string) => `label_values(${selector})`);
  for (const match of cleaned.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const [, name = '', selector] = match;
    const before = cleaned.slice(0, match.index).trimEnd();
    // Inside `by (…)`, `{…}` or `[…]` and `$variables`: not metric names.
    if (PROMQL_WORDS.has(name) || /\b(by|without)\s*\([^)]*$/.test(before) || /\$\w*$|\$__\w*$/.test(before + name) || /\[[^\]]*$/.test(before)) continue;
    if (/^[0-9.]+$/.test(name) || before.endsWith('$')) continue;
    const labels = [...(selector ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((label) => label[1] ?? '');
    reads.push({ metric: name, labels });
  }
  for (const group of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    const labels = (group[1] ?? '').split(',').map((label) => label.trim());
    reads.push({ metric: '', labels });
  }
  return reads;
}

test('the Grafana dashboard queries only what the registry exports', async () => {
  const file = path.join(repositoryRoot(), 'packaging', 'grafana', 'zferry-dashboard.json');
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
  const metrics = new DaemonMetrics();
  const exported = new Map<string, string[]>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const single = metrics.registry.getSingleMetric(metric.name);
    const labelNames = [...((single as unknown as { labelNames?: string[] }).labelNames ?? [])];
    exported.set(metric.name, labelNames);
    if (single instanceof Histogram) {
      exported.set(`${metric.name}_bucket`, [...labelNames, 'le']);
      exported.set(`${metric.name}_sum`, labelNames);
      exported.set(`${metric.name}_count`, labelNames);
    }
  }

  const variable = dashboard.templating.list.find((entry) => entry.type === 'datasource');
  assert.ok(variable !== undefined, 'a data source variable');
  const expressions: string[] = [];
  for (const panel of dashboard.panels) {
    assert.equal(panel.datasource?.uid, `\${${variable.name}}`, `${panel.title}: the data source comes from the variable`);
    for (const target of panel.targets ?? []) expressions.push(target.expr);
  }
  for (const entry of dashboard.templating.list) {
    const query = entry.query as { query?: string } | string;
    if (entry.type === 'query') expressions.push(typeof query === 'string' ? query : (query.query ?? ''));
  }

  const allLabels = new Set([...[...exported.values()].flat(), ...TARGET_LABELS]);
  const read = new Set<string>();
  for (const expr of expressions) {
    for (const { metric, labels } of readsOf(expr)) {
      if (metric === '') {
        for (const label of labels) assert.ok(allLabels.has(label), `${expr}: no metric has the label ${label}`);
        continue;
      }
      const known = exported.get(metric);
      assert.ok(known !== undefined, `${expr}: ${metric} is not exported`);
      for (const label of labels) assert.ok([...known, ...TARGET_LABELS].includes(label), `${expr}: ${metric} has no label ${label}`);
      read.add(metric.replace(/_(bucket|sum|count)$/, ''));
    }
  }
  for (const name of Object.values(METRIC_NAMES)) assert.ok(read.has(name), `no panel shows ${name}`);
});
