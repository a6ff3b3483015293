/**
 * A small, strict parser of the Prometheus text exposition format (version 0.0.4, as
 * https://prometheus.io/docs/instrumenting/exposition_formats/ describes it), for tests: it
 * throws, naming the line, on anything a Prometheus server would reject or that makes a
 * family inconsistent (a sample before its TYPE, a name outside its family, a duplicate series,
 * a histogram whose buckets are not cumulative or whose +Inf bucket is not its count).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** A sample value as Prometheus reads it (Go's strconv.ParseFloat: NaN and Inf in any case). */
function parseValue(text: string, where: string): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special?.[2]?.toLowerCase() === 'nan') {
    if (special[1]) throw new Error(`${where}: bad value '${text}'`);
    return NaN;
  }
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`${where}: bad value '${text}'`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `s` at `i` (at the '{'); returns the labels and the index after '}'. */
function parseLabels(
  s: string,
  start: number,
  where: string,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (s[i] === '}') return { labels, end: i + 1 };
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = s.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' repeated`);
    if (s[eq + 1] !== '"') throw new Error(`${where}: label '${name}' value is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] !== '\\') {
        value += s[j];
        continue;
      }
      const next = s[++j];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw new Error(`${where}: bad escape '\\${next ?? ''}' in label '${name}'`);
    }
    if (j >= s.length) throw new Error(`${where}: label '${name}' value is not closed`);
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`${where}: expected ',' or '}' after label '${name}'`);
  }
}

/** The family a sample name belongs to, given the family's type. */
function familyOf(sample: string, families: ReadonlyMap<string, Family>): Family | undefined {
  const exact = families.get(sample);
  if (exact && exact.type !== 'histogram') return exact;
  const m = /^(.*)_(bucket|sum|count)$/.exec(sample);
  if (!m) return undefined;
  const f = families.get(m[1]!);
  if (f?.type === 'histogram') return f;
  if (f?.type === 'summary' && m[2] !== 'bucket') return f;
  return undefined;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>();
  const counts = new Map<string, number>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${f.name}: a bucket without 'le'`);
      series.set(key, [...(series.get(key) ?? []), s]);
    } else if (s.name.endsWith('_count')) counts.set(key, s.value);
  }
  for (const [key, buckets] of series) {
    const sorted = [...buckets].sort(
      (a, b) => parseValue(a.labels.le!, f.name) - parseValue(b.labels.le!, f.name),
    );
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`${f.name}${key}: buckets not cumulative`);
    const inf = sorted.at(-1);
    if (inf?.labels.le !== '+Inf') throw new Error(`${f.name}${key}: no +Inf bucket`);
    if (counts.get(key) !== inf.value) throw new Error(`${f.name}${key}: +Inf bucket is not _count`);
  }
}

/** Parses an exposition; the families by name. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, keyword, name, rest = ''] = m as unknown as [string, 'HELP' | 'TYPE', string, string?];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
      const f = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest as MetricType)) throw new Error(`${where}: unknown type '${rest}'`);
        if (families.has(name) && (f.samples.length > 0 || f.type !== 'untyped'))
          throw new Error(`${where}: TYPE of '${name}' after its samples or repeated`);
        families.set(name, { ...f, type: rest as MetricType });
      } else families.set(name, { ...f, help: rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\') });
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: not a sample`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
    let labels: Record<string, string> = {};
    let rest = line.slice(nameEnd);
    if (rest.startsWith('{')) {
      const parsed = parseLabels(line, nameEnd, where);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    }
    const fields = rest.trim().split(/ +/);
    if (!rest.startsWith(' ') || fields.length < 1 || fields.length > 2)
      throw new Error(`${where}: expected ' value [timestamp]'`);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new Error(`${where}: bad timestamp`);
    const family = familyOf(name, families);
    if (!family) throw new Error(`${where}: sample '${name}' has no TYPE line before it`);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`${where}: duplicate series ${id}`);
    seen.add(id);
    family.samples.push({ name, labels, value: parseValue(fields[0]!, where) });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** The one sample of `name` whose labels include `labels`; throws when there is none or several. */
export function sampleValue(
  families: ReadonlyMap<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1)
    throw new Error(`${matches.length} samples of ${name}${JSON.stringify(labels)}, expected one`);
  return matches[0]!.value;
}
