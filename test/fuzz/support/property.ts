import fc from 'fast-check';
import { type AnySurface, runCase } from './surface';

/** A fixed fast-check seed per surface, so CI runs the same cases; FUZZ_SEED=n explores others. */
function seedOf(name: string): number {
  const extra = Number(process.env['FUZZ_SEED'] ?? 0) | 0;
  let h = 0x811c9dc5;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return (h ^ extra) | 0;
}

/**
 * The fast CI slice of a surface: `runs` cases, each a fast-check-drawn case seed fed through
 * runCase; fails on the first finding with the case seed and its input, which reproduce it.
 */
export async function assertNoFindings(surface: AnySurface, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 0x7fffffff }), async (seed) => {
      const r = await runCase(surface, seed);
      if (r.finding) throw new Error(r.finding);
    }),
    // A case seed has no smaller "simpler" neighbour: shrinking would only wander, so stop.
    { numRuns: runs, seed: seedOf(surface.name), endOnFailure: true },
  );
}
