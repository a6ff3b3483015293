import { federationSpecSchema } from '@fedistill/protocol';
import { SiteDataError } from './site-data';

/**
 * A federation's digest-and-revisit terms (its definition's optional `revisit` section): between
 * rounds each site fine-tunes its teachers `digestEpochs` on the released targets of the answered
 * reference inputs, then `localEpochs` on their own partitions (FedMD, Li and Wang 2019,
 * arXiv:1910.03581, §2), with Adam at `learningRate`.
 */
export interface RevisitTerms {
  readonly digestEpochs: number;
  readonly localEpochs: number;
  readonly learningRate: number;
}

/**
 * The federation's revisit terms, or null when its definition has no `revisit` section. The site
 * checks the section it synced with the federation definition's own schema (libs/protocol), so a
 * coordinator cannot hand it terms the definition would not allow.
 */
export function revisitTerms(federationId: string, spec: unknown): RevisitTerms | null {
  const raw = (spec as { revisit?: unknown } | null)?.revisit;
  if (raw === undefined || raw === null) return null;
  const parsed = federationSpecSchema.shape.revisit.safeParse(raw);
  const fail = (why: string[]) => new SiteDataError(`federation '${federationId}': ${why.join('; ')}`);
  if (!parsed.success)
    throw fail(parsed.error.issues.map((i) => `${['revisit', ...i.path].join('.')}: ${i.message}`));
  const terms = parsed.data;
  if (!terms) return null;
  if (terms.digestEpochs + terms.localEpochs === 0)
    throw fail(['revisit: needs digestEpochs or localEpochs >= 1']);
  return Object.freeze({ ...terms });
}
