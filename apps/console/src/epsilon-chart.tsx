import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { PrivacyBySite } from './types';

/** Colours with at least 3:1 contrast on white, told apart by dash as well as hue. */
const PALETTE = ['#0b57d0', '#b3261e', '#146c2e', '#7d3ead', '#8a5300', '#006a6a', '#5c5f62'];

/** The plot's series: x (round), the federation, each site, then the cap and each reported limit. */
export function epsilonSeries(p: PrivacyBySite): {
  labels: string[];
  data: (number | null)[][];
  dashed: boolean[];
} {
  const sites = Object.keys(p.siteLimits).sort();
  const xs = p.points.map((pt) => pt.round);
  const labels = ['federation ε'];
  const data: (number | null)[][] = [xs, p.points.map((pt) => pt.federation)];
  const dashed = [false];
  for (const site of sites) {
    labels.push(`${site} ε`);
    data.push(p.points.map((pt) => pt.sites[site] ?? 0));
    dashed.push(false);
  }
  if (p.epsilonCap !== null) {
    labels.push('federation cap');
    data.push(xs.map(() => p.epsilonCap));
    dashed.push(true);
  }
  for (const site of sites) {
    const limit = p.siteLimits[site];
    if (limit === null || limit === undefined) continue;
    labels.push(`${site} limit`);
    data.push(xs.map(() => limit));
    dashed.push(true);
  }
  return { labels, data, dashed };
}

export function EpsilonChart(p: { privacy: PrivacyBySite }) {
  const target = useRef<HTMLDivElement>(null);
  // Polling hands over a new object each second: redraw only when a figure changed.
  const figures = JSON.stringify(p.privacy);
  useEffect(() => {
    const el = target.current;
    if (!el || p.privacy.points.length === 0) return;
    const { labels, data, dashed } = epsilonSeries(p.privacy);
    const plot = new uPlot(
      {
        width: Math.min(1000, el.clientWidth || 900),
        height: 320,
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [
          {
            label: 'Round',
            incrs: [1, 2, 5, 10, 20, 50],
            values: (_u, ticks) => ticks.map((t) => String(t)),
          },
          { label: 'ε spent (at the federation δ)' },
        ],
        series: [
          { label: 'Round' },
          ...labels.map((label, i) => ({
            label,
            stroke: PALETTE[i % PALETTE.length],
            width: i === 0 ? 3 : 2,
            dash: dashed[i] ? [8, 6] : undefined,
            points: { show: !dashed[i] },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : v.toFixed(3)),
          })),
        ],
      },
      data as uPlot.AlignedData,
      el,
    );
    return () => plot.destroy();
  }, [figures]);
  return (
    <div
      ref={target}
      class="chart"
      data-testid="epsilon-chart"
      role="img"
      aria-label="Epsilon spent per round; the table below has the same figures"
    />
  );
}
