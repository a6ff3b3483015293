import type { GetReleasedTargetsRequest, GetReleasedTargetsResponse } from '@fedistill/wire';

/** The released targets of a federation's completed rounds, as a site digests them. */
export interface ReleasedTargets {
  /** Reference-set rows, distinct. */
  readonly rows: readonly number[];
  /** [rows x classes] probabilities in [0, 1], in the order of `rows`. */
  readonly probs: Float32Array;
  /** The completed rounds they come from, ascending (empty when none completed yet). */
  readonly rounds: readonly number[];
}

/** How the site asks the coordinator for one page (Rounds.GetReleasedTargets through its egress path). */
export type ReleasedTargetsSource = (
  request: GetReleasedTargetsRequest,
) => Promise<GetReleasedTargetsResponse>;

/** What the coordinator sent cannot be the released targets of this federation: refused, nothing digested. */
export class ReleasedTargetsError extends Error {
  override readonly name = 'ReleasedTargetsError';
}

/** What the site knows that the targets must fit. */
export interface TargetsShape {
  readonly federationId: string;
  /** The round about to be answered: targets come from rounds before it. */
  readonly beforeRound: number;
  /** Rows of the site's synced reference set. */
  readonly referenceRows: number;
  readonly classes: number;
}

/**
 * Downloads every page of the released targets before `shape.beforeRound` and checks them as it
 * goes: the class count, each page's size, row indices within the reference set and distinct,
 * probabilities finite and in [0, 1], rounds before the one being answered. The coordinator may
 * send anything (docs/threat-model.md); what does not fit is refused with the first problem found.
 */
export async function downloadReleasedTargets(
  source: ReleasedTargetsSource,
  shape: TargetsShape,
): Promise<ReleasedTargets> {
  const { classes } = shape;
  const fail = (why: string) =>
    new ReleasedTargetsError(`the released targets before round ${shape.beforeRound} are refused: ${why}`);
  const rows: number[] = [];
  const seen = new Set<number>();
  const probs: number[] = [];
  let total: number | undefined;
  let rounds: readonly number[] = [];
  do {
    const page = await source({
      federationId: shape.federationId,
      beforeRound: shape.beforeRound,
      start: rows.length,
    });
    if (page.numClasses !== classes)
      throw fail(`they have ${page.numClasses} classes; the federation has ${classes}`);
    if (total === undefined) {
      total = page.totalRows;
      rounds = checkRounds(page.rounds, shape.beforeRound, fail);
      if (!Number.isInteger(total) || total > shape.referenceRows)
        throw fail(`${total} rows claimed; the reference set has ${shape.referenceRows}`);
      if (total > 0 && rounds.length === 0) throw fail(`${total} rows from no completed round`);
    } else if (page.totalRows !== total || !sameRounds(page.rounds, rounds)) {
      throw fail('the pages disagree on the total or the rounds');
    }
    if (total > 0 && page.rows.length === 0) throw fail(`an empty page at row ${rows.length} of ${total}`);
    if (rows.length + page.rows.length > total) throw fail(`more rows than the ${total} claimed`);
    if (page.probs.length !== page.rows.length * classes * 4)
      throw fail(
        `a page of ${page.rows.length} rows has ${page.probs.length} bytes of probabilities, not rows x ${classes} float32`,
      );
    for (const row of page.rows) {
      if (!Number.isInteger(row) || row < 0 || row >= shape.referenceRows)
        throw fail(`row ${row} is outside the reference set's ${shape.referenceRows} rows`);
      if (seen.has(row)) throw fail(`row ${row} appears twice`);
      seen.add(row);
      rows.push(row);
    }
    const view = new DataView(page.probs.buffer, page.probs.byteOffset, page.probs.byteLength);
    for (let i = 0; i < page.probs.length / 4; i += 1) {
      const p = view.getFloat32(i * 4, true);
      if (!Number.isFinite(p) || p < 0 || p > 1)
        throw fail(`target ${p} (row ${page.rows[Math.floor(i / classes)]}) is not a probability in [0, 1]`);
      probs.push(p);
    }
  } while (rows.length < total);
  return { rows, probs: Float32Array.from(probs), rounds };
}

function checkRounds(
  rounds: readonly number[],
  before: number,
  fail: (why: string) => ReleasedTargetsError,
): readonly number[] {
  for (const [i, r] of rounds.entries()) {
    if (!Number.isInteger(r) || r < 1 || r >= before)
      throw fail(`round ${r} is not a round before ${before}`);
    if (i > 0 && r <= (rounds[i - 1] as number)) throw fail('the rounds are not distinct and ascending');
  }
  return [...rounds];
}

function sameRounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}
