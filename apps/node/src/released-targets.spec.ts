import { GetReleasedTargetsResponse, type GetReleasedTargetsRequest } from '@fedistill/wire';
import {
  downloadReleasedTargets,
  ReleasedTargetsError,
  type ReleasedTargetsSource,
} from './released-targets';

const shape = { federationId: 'fed', beforeRound: 3, referenceRows: 10, classes: 2 };

const f32 = (values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
};

/** A coordinator serving `rows` with `probs` in pages of `pageRows`, through the wire codec; `tamper` rewrites a page. */
function coordinator(
  rows: number[],
  probs: number[],
  o: {
    pageRows?: number;
    rounds?: number[];
    tamper?: (p: GetReleasedTargetsResponse) => GetReleasedTargetsResponse;
  } = {},
): ReleasedTargetsSource & { asked: GetReleasedTargetsRequest[] } {
  const asked: GetReleasedTargetsRequest[] = [];
  const per = o.pageRows ?? rows.length;
  const source = (req: GetReleasedTargetsRequest) => {
    asked.push(req);
    const end = Math.min(rows.length, req.start + per);
    const page = GetReleasedTargetsResponse.fromPartial({
      rows: rows.slice(req.start, end),
      numClasses: 2,
      probs: f32(probs.slice(req.start * 2, end * 2)),
      totalRows: rows.length,
      rounds: o.rounds ?? [1, 2],
    });
    const sent = o.tamper ? o.tamper(page) : page;
    return Promise.resolve(
      GetReleasedTargetsResponse.decode(GetReleasedTargetsResponse.encode(sent).finish()),
    );
  };
  return Object.assign(source, { asked });
}

describe(downloadReleasedTargets.name, () => {
  it('gathers every page, in order, with the rounds they come from', async () => {
    const source = coordinator([1, 4, 7], [0.25, 0.75, 1, 0, 0.5, 0.5], { pageRows: 2 });
    const sut = await downloadReleasedTargets(source, shape);
    expect(sut.rows).toEqual([1, 4, 7]);
    expect([...sut.probs]).toEqual([0.25, 0.75, 1, 0, 0.5, 0.5]);
    expect(sut.rounds).toEqual([1, 2]);
    expect(source.asked.map((r) => [r.federationId, r.beforeRound, r.start])).toEqual([
      ['fed', 3, 0],
      ['fed', 3, 2],
    ]);
  });

  it('takes an empty history (no completed round yet) in one request', async () => {
    const sut = await downloadReleasedTargets(coordinator([], [], { rounds: [] }), shape);
    expect(sut).toEqual({ rows: [], probs: new Float32Array(0), rounds: [] });
  });

  const refused: Array<[string, Parameters<typeof coordinator>, RegExp]> = [
    [
      'a row outside the reference set',
      [
        [1, 10],
        [0, 1, 1, 0],
      ],
      /row 10 is outside the reference set's 10 rows/,
    ],
    [
      'a row twice',
      [
        [3, 3],
        [0, 1, 1, 0],
      ],
      /row 3 appears twice/,
    ],
    ['a row twice across pages', [[3, 3], [0, 1, 1, 0], { pageRows: 1 }], /row 3 appears twice/],
    ['a NaN target', [[1], [NaN, 1]], /target NaN \(row 1\) is not a probability/],
    ['a target above 1', [[1], [0, 1.5]], /target 1.5 \(row 1\) is not a probability/],
    ['a negative target', [[1], [-0.25, 1]], /target -0.25 .* not a probability/],
    [
      'too few probabilities',
      [
        [1, 2],
        [0, 1, 1],
      ],
      /a page of 2 rows has 12 bytes of probabilities, not rows x 2 float32/,
    ],
    [
      'a round not before the one answered',
      [[1], [0, 1], { rounds: [1, 3] }],
      /round 3 is not a round before 3/,
    ],
    ['rows from no round', [[1], [0, 1], { rounds: [] }], /1 rows from no completed round/],
    ['rounds out of order', [[1], [0, 1], { rounds: [2, 1] }], /not distinct and ascending/],
    [
      'another class count',
      [[1], [0, 1], { tamper: (p) => ({ ...p, numClasses: 3 }) }],
      /they have 3 classes; the federation has 2/,
    ],
    [
      'more rows than the reference set',
      [[1], [0, 1], { tamper: (p) => ({ ...p, totalRows: 11 }) }],
      /11 rows claimed; the reference set has 10/,
    ],
    [
      'an empty page before the end',
      [[1], [0, 1], { tamper: (p) => ({ ...p, rows: [], probs: Buffer.alloc(0), totalRows: 2 }) }],
      /an empty page at row 0 of 2/,
    ],
    [
      'more rows than claimed',
      [[1, 2], [0, 1, 1, 0], { tamper: (p) => ({ ...p, totalRows: 1 }) }],
      /more rows than the 1 claimed/,
    ],
  ];
  it.each(refused)('refuses %s', async (_what, args, message) => {
    const failure = downloadReleasedTargets(coordinator(...args), shape);
    await expect(failure).rejects.toBeInstanceOf(ReleasedTargetsError);
    await expect(downloadReleasedTargets(coordinator(...args), shape)).rejects.toThrow(message);
  });

  it('refuses pages that disagree with the first', async () => {
    let calls = 0;
    const source = coordinator([1, 2], [0, 1, 1, 0], {
      pageRows: 1,
      tamper: (p) => (calls++ === 0 ? p : { ...p, rounds: [2] }),
    });
    await expect(downloadReleasedTargets(source, shape)).rejects.toThrow(/the pages disagree/);
  });
});
