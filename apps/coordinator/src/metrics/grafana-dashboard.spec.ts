import * as fs from 'node:fs';
import * as path from 'node:path';
import { CoordinatorMetrics } from './coordinator-metrics';

const DASHBOARD = path.join(__dirname, '../../../../deploy/grafana/fedistill.json');

/** PromQL words that are not metric names: keywords and aggregation modifiers. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label matchers,
 * ranges, grouping clauses, Grafana variables and function calls are taken out.
 */
export function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  // A whole word (not the tail of a number such as 5m or 1e3) that is not a function call.
  const names = [...bare.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined)
    .map((m) => m[1]!)
    .filter((w) => !KEYWORDS.has(w) && !/^(Inf|NaN)$/i.test(w));
  return [...new Set(names)];
}

/** Every `expr` and templating `query` of a Grafana dashboard, wherever it is nested. */
function expressions(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => expressions(n, out));
  else if (node && typeof node === 'object')
    for (const [key, value] of Object.entries(node)) {
      if (key === 'expr' && typeof value === 'string') out.push(value);
      else if (key === 'definition' && typeof value === 'string')
        out.push(value.replace(/^label_values\((.*),[^,]*\)$/, '$1'));
      else expressions(value, out);
    }
  return out;
}

/** The series names a family exports (a histogram's _bucket, _sum and _count). */
function exported(): Set<string> {
  const none = () => Promise.resolve({ enrolled: 0, online: 0 });
  const sut = new CoordinatorMetrics({
    sites: none,
    epsilon: () => Promise.resolve({ federations: [], sites: [] }),
  });
  const names = new Set<string>();
  for (const m of sut.registry.getMetricsAsArray()) {
    names.add(m.name);
    if (['histogram', 'summary'].includes(String(m.type)))
      for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
  }
  return names;
}

describe('deploy/grafana/fedistill.json', () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
    panels: unknown[];
    templating: unknown;
  };

  it('names only metrics the coordinator exports, in every expression', () => {
    const known = exported();
    const exprs = expressions(dashboard);
    expect(exprs.length).toBeGreaterThanOrEqual(10);
    const unknown = exprs.flatMap((e) =>
      promqlMetricNames(e)
        .filter((n) => !known.has(n))
        .map((n) => `${n} in ${e}`),
    );
    expect(unknown).toEqual([]);
    // Each expression selects at least one metric (no constant panels).
    for (const e of exprs) expect(promqlMetricNames(e).length).toBeGreaterThan(0);
  });

  it('shows every fedistill_ metric the coordinator exports', () => {
    const used = new Set(expressions(dashboard).flatMap(promqlMetricNames));
    const families = [...exported()].filter(
      (n) => n.startsWith('fedistill_') && !/_(sum|count|bucket)$/.test(n),
    );
    const shown = (f: string) => [f, `${f}_bucket`, `${f}_sum`, `${f}_count`].some((n) => used.has(n));
    expect(families.filter((f) => !shown(f))).toEqual([]);
  });
});

describe(promqlMetricNames.name, () => {
  it('finds the metrics of an expression and nothing else', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, stage) (rate(fedistill_round_stage_duration_seconds_bucket{job="x"}[$__rate_interval])))',
      ),
    ).toEqual(['fedistill_round_stage_duration_seconds_bucket']);
    expect(promqlMetricNames('sum(a_total{f=~"$federation"}) / on (f) group_left b_total offset 5m')).toEqual(
      ['a_total', 'b_total'],
    );
    // A misspelt name is found, so the dashboard check above can fail.
    expect(promqlMetricNames('fedistill_round_total')).toEqual(['fedistill_round_total']);
  });
});
