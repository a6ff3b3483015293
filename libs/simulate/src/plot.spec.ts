import { lineChartSvg } from './plot';

describe(lineChartSvg.name, () => {
  it('draws each series through its points, scaled to the axes, with a legend', () => {
    const sut = lineChartSvg({
      title: 'accuracy <by round>',
      xLabel: 'round',
      yLabel: 'accuracy',
      series: [
        {
          name: 'student',
          points: [
            [1, 0.5],
            [3, 0.9],
          ],
        },
      ],
      references: [{ name: 'centralized', y: 1 }],
    });
    expect(sut.startsWith('<svg')).toBe(true);
    // x in [1, 3] maps to [60, 490]; y in [0.5, 1] maps to [276, 28].
    expect(sut).toContain('points="60.0,276.0 490.0,77.6"');
    expect(sut).toContain('y1="28.0" y2="28.0"');
    expect(sut).toContain('accuracy &lt;by round&gt;');
    expect(sut).toContain('>centralized</text>');
  });

  it('skips non-finite points and copes with an empty chart', () => {
    const sut = lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 's', points: [[NaN, 1]] }],
    });
    expect(sut).not.toContain('polyline');
    expect(sut).not.toContain('NaN');
  });
});
