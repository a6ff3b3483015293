/** A small, dependency-free SVG step plot of cumulative epsilon over time, with the limit as a dashed line. */
export function epsilonPlotSvg(
  points: ReadonlyArray<{ time: string; total: number }>,
  limit: number | null,
): string {
  const width = 640;
  const height = 240;
  const pad = { left: 56, right: 16, top: 16, bottom: 40 };
  const times = points.map((p) => Date.parse(p.time));
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = times.length ? Math.max(...times) : 1;
  const yMax = Math.max(limit ?? 0, ...points.map((p) => p.total), 1e-9) * 1.1;
  const x = (t: number) => pad.left + ((t - t0) / Math.max(t1 - t0, 1)) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom);
  let d = `M ${x(t0).toFixed(1)} ${y(0).toFixed(1)}`;
  points.forEach((p, i) => {
    const xi = x(times[i] ?? t0).toFixed(1);
    d += ` H ${xi} V ${y(p.total).toFixed(1)}`;
  });
  const limitLine =
    limit === null
      ? ''
      : `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(limit).toFixed(1)}" y2="${y(limit).toFixed(1)}" stroke="#b00" stroke-dasharray="6 4"/><text x="${width - pad.right}" y="${(y(limit) - 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#b00">limit ${limit}</text>`;
  const label = points.length
    ? ''
    : `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="13" fill="#666">no privacy cost recorded yet</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#333"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#333"/>
<text x="${pad.left - 8}" y="${y(0) + 4}" text-anchor="end" font-size="12">0</text>
<text x="${pad.left - 8}" y="${y(yMax / 1.1) + 4}" text-anchor="end" font-size="12">${(yMax / 1.1).toPrecision(3)}</text>
<text x="16" y="${height / 2}" font-size="12" transform="rotate(-90 16 ${height / 2})" text-anchor="middle">epsilon spent</text>
<text x="${(width + pad.left) / 2}" y="${height - 8}" font-size="12" text-anchor="middle">time</text>
${limitLine}<path d="${d}" fill="none" stroke="#036" stroke-width="2"/>${label}
</svg>`;
}
