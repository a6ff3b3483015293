import { formatEpsilon } from './report-format';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Time-axis steps a reader counts in, smallest first. */
const TIME_STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
];

/**
 * Ticks of the time axis between t0 and t1 (ms): at most 6, on round UTC instants of the
 * smallest step that keeps them that few, labelled at that step's resolution.
 */
export function timeTicks(t0: number, t1: number): Array<{ t: number; label: string }> {
  const span = t1 - t0;
  const step = TIME_STEPS.find((s) => span / s <= 5) ?? Math.ceil(span / 5 / DAY) * DAY;
  const iso = (t: number) => new Date(t).toISOString();
  const label = (t: number) =>
    step >= DAY ? iso(t).slice(0, 10) : step >= MINUTE ? iso(t).slice(11, 16) : iso(t).slice(11, 19);
  if (span <= 0) return [{ t: t0, label: label(t0) }];
  const ticks = [];
  // Steps of a day or more start at the first midnight (UTC), not at a multiple from 1970.
  const grid = step >= DAY ? DAY : step;
  for (let t = Math.ceil(t0 / grid) * grid; t <= t1; t += step) ticks.push({ t, label: label(t) });
  return ticks;
}

/** Ticks of the epsilon axis from 0 to at least `top`: a 1, 2 or 5 step, at most 5 intervals. */
export function valueTicks(top: number): number[] {
  const magnitude = 10 ** Math.floor(Math.log10(top / 5));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => top / s <= 5) ?? 10 * magnitude;
  const ticks = [];
  for (let i = 0; i * step < top + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  if ((ticks.at(-1) ?? 0) < top) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

/**
 * A small, dependency-free SVG step plot of cumulative epsilon over time, with the limit as a
 * dashed line, and both axes ticked and labelled (time in UTC).
 */
export function epsilonPlotSvg(
  points: ReadonlyArray<{ time: string; total: number }>,
  limit: number | null,
): string {
  const width = 640;
  const height = 260;
  const pad = { left: 64, right: 24, top: 16, bottom: 56 };
  const times = points.map((p) => Date.parse(p.time));
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = times.length ? Math.max(...times) : 0;
  const yTicks = valueTicks(Math.max(limit ?? 0, ...points.map((p) => p.total), 1e-9) * 1.05);
  const yMax = yTicks.at(-1) ?? 1;
  const x = (t: number) => pad.left + ((t - t0) / Math.max(t1 - t0, 1)) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom);
  const base = height - pad.bottom;
  let d = `M ${x(t0).toFixed(1)} ${y(0).toFixed(1)}`;
  points.forEach((p, i) => {
    d += ` H ${x(times[i] ?? t0).toFixed(1)} V ${y(p.total).toFixed(1)}`;
  });
  const yAxis = yTicks
    .map((v) => {
      const yv = y(v).toFixed(1);
      return `<line x1="${pad.left - 4}" x2="${width - pad.right}" y1="${yv}" y2="${yv}" stroke="${v === 0 ? '#333' : '#e4e4e4'}"/><text x="${pad.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="12">${formatEpsilon(v)}</text>`;
    })
    .join('\n');
  const xAxis = points.length
    ? timeTicks(t0, t1)
        .map(({ t, label }) => {
          const xt = x(t).toFixed(1);
          return `<line x1="${xt}" x2="${xt}" y1="${base}" y2="${base + 5}" stroke="#333"/><text x="${xt}" y="${base + 18}" text-anchor="middle" font-size="12">${label}</text>`;
        })
        .join('\n')
    : '';
  const from = points.length ? `, from ${new Date(t0).toISOString().slice(0, 10)}` : '';
  const limitLine =
    limit === null
      ? ''
      : `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(limit).toFixed(1)}" y2="${y(limit).toFixed(1)}" stroke="#b00" stroke-dasharray="6 4"/><text x="${width - pad.right}" y="${(y(limit) - 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#b00">limit ${formatEpsilon(limit)}</text>`;
  const label = points.length
    ? ''
    : `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="13" fill="#666">no privacy cost recorded yet</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" role="img" aria-label="cumulative epsilon spent over time">
<rect width="100%" height="100%" fill="#fff"/>
${yAxis}
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${base}" stroke="#333"/>
${xAxis}
<text x="16" y="${(height - pad.bottom + pad.top) / 2}" font-size="12" transform="rotate(-90 16 ${(height - pad.bottom + pad.top) / 2})" text-anchor="middle">epsilon spent (cumulative)</text>
<text x="${(width + pad.left) / 2}" y="${height - 10}" font-size="12" text-anchor="middle">time (UTC${from})</text>
${limitLine}<path d="${d}" fill="none" stroke="#036" stroke-width="2"/>${label}
</svg>`;
}
