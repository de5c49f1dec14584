// Reading the shipped monitoring files (deploy/prometheus, deploy/grafana) for the monitoring
// tests: the PromQL expressions they hold and the metric names those expressions use, and the
// metric names a daemon's /metrics exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/testing/manager.js';

export const PROMETHEUS_DIR = join(PACKAGE_ROOT, 'deploy', 'prometheus');
export const GRAFANA_DASHBOARD = join(PACKAGE_ROOT, 'deploy', 'grafana', 'sluice.json');

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, range and subquery
 * brackets, grouping lists and Grafana variables are removed first; what remains of the
 * identifiers, except functions (followed by "(") and keywords, are metric names.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(') || PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Every `expr:` of a Prometheus rules file (single-line or a `|` block). */
export function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*(?:-\s+)?)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] !== '|' && m[2] !== '>') {
      out.push(m[2]!);
      continue;
    }
    const block: string[] = [];
    // The block is every following line indented deeper than `expr:`.
    while (i + 1 < lines.length && lines[i + 1]!.search(/\S/) > m[1]!.length)
      block.push(lines[++i]!);
    out.push(block.join('\n'));
  }
  return out;
}

interface GrafanaPanel {
  readonly title?: string;
  readonly targets?: readonly { expr?: string }[];
  readonly panels?: readonly GrafanaPanel[];
}

/** Every query of the dashboard (panel targets and query variables), with where it is. */
export function dashboardQueries(): { where: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(GRAFANA_DASHBOARD, 'utf8')) as {
    panels: GrafanaPanel[];
    templating: { list: { name: string; type: string; definition?: string }[] };
  };
  const out: { where: string; expr: string }[] = [];
  const walk = (panels: readonly GrafanaPanel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating.list)
    if (v.type === 'query' && v.definition) {
      // label_values(metric, label): the metric is the first argument.
      const metric = /^label_values\(\s*([^,]+),/.exec(v.definition)?.[1] ?? v.definition;
      out.push({ where: `variable $${v.name}`, expr: metric });
    }
  return out;
}

/** Names a /metrics text exports: each `# TYPE`, with _bucket/_sum/_count for histograms. */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}
