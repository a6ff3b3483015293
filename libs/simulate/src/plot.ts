/** One line of a chart: points (x, y) joined in order. */
export interface PlotSeries {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** A dependency-free SVG line chart. */
export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly PlotSeries[];
  /** Horizontal reference lines (e.g. baselines), drawn dashed. */
  readonly references?: ReadonlyArray<{ readonly name: string; readonly y: number }>;
}

const COLORS = ['#036', '#b50', '#070', '#606', '#444'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return fallback;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** Renders `chart` as a 640 x 320 SVG document (axes, min/max ticks, legend). */
export function lineChartSvg(chart: LineChart): string {
  const width = 640;
  const height = 320;
  const pad = { left: 60, right: 150, top: 28, bottom: 44 };
  const xs = extent(
    chart.series.flatMap((s) => s.points.map((p) => p[0])),
    [0, 1],
  );
  const ys = extent(
    [...chart.series.flatMap((s) => s.points.map((p) => p[1])), ...(chart.references ?? []).map((r) => r.y)],
    [0, 1],
  );
  const x = (v: number): string =>
    (pad.left + ((v - xs[0]) / (xs[1] - xs[0])) * (width - pad.left - pad.right)).toFixed(1);
  const y = (v: number): string =>
    (height - pad.bottom - ((v - ys[0]) / (ys[1] - ys[0])) * (height - pad.top - pad.bottom)).toFixed(1);
  const parts: string[] = [];
  chart.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const finite = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (finite.length > 0)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${finite.map((p) => `${x(p[0])},${y(p[1])}`).join(' ')}"/>`,
        ...finite.map((p) => `<circle cx="${x(p[0])}" cy="${y(p[1])}" r="3" fill="${color}"/>`),
      );
    parts.push(legend(i, s.name, color, false, width - pad.right + 10, pad.top));
  });
  (chart.references ?? []).forEach((r, j) => {
    const color = COLORS[(chart.series.length + j) % COLORS.length] as string;
    parts.push(
      `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(r.y)}" y2="${y(r.y)}" stroke="${color}" stroke-dasharray="6 4"/>`,
      legend(chart.series.length + j, r.name, color, true, width - pad.right + 10, pad.top),
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escape(chart.title)}</text>
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#333"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#333"/>
<text x="${pad.left}" y="${height - pad.bottom + 16}" text-anchor="middle">${num(xs[0])}</text>
<text x="${width - pad.right}" y="${height - pad.bottom + 16}" text-anchor="middle">${num(xs[1])}</text>
<text x="${pad.left - 6}" y="${Number(y(ys[0])) + 4}" text-anchor="end">${num(ys[0])}</text>
<text x="${pad.left - 6}" y="${Number(y(ys[1])) + 4}" text-anchor="end">${num(ys[1])}</text>
<text x="${(width - pad.right + pad.left) / 2}" y="${height - 8}" text-anchor="middle">${escape(chart.xLabel)}</text>
<text x="16" y="${height / 2}" transform="rotate(-90 16 ${height / 2})" text-anchor="middle">${escape(chart.yLabel)}</text>
${parts.join('\n')}
</svg>
`;
}

function num(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

function legend(i: number, name: string, color: string, dashed: boolean, x: number, top: number): string {
  const yy = top + 16 * i + 8;
  const dash = dashed ? ' stroke-dasharray="6 4"' : '';
  return `<line x1="${x}" x2="${x + 18}" y1="${yy}" y2="${yy}" stroke="${color}" stroke-width="2"${dash}/><text x="${x + 24}" y="${yy + 4}">${escape(name)}</text>`;
}
