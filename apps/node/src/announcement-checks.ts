/**
 * What a site checks in a round announcement before it computes anything. The checks
 * themselves are libs/protocol's (decodeAnnouncement, releaseFromTerms, evaluationFromTerms:
 * the same code the coordinator's planner and the simulator use); this file adds what needs the
 * node: its refusal type (reported to the coordinator), its schema and teachers, and reading the
 * queried rows from its copy of the reference set.
 */
import * as fs from 'node:fs';
import { parseNpy } from '@fedistill/data';
import type { EvaluationSpec, ReleasePlan, ReleaseSpec } from '@fedistill/distill';
import {
  type Announcement,
  classSumsFromTerms,
  decodeAnnouncement,
  evaluationFromTerms,
  releaseFromTerms,
  TermsRefusedError,
  WireFieldError,
} from '@fedistill/protocol';
import { DeclineReason, type RoundAnnouncement } from '@fedistill/wire';
import { type FederationSchema } from './site-data';

/** Why the site will not answer a round; reported to the coordinator, never silent. */
export class RoundRefusal extends Error {
  override readonly name = 'RoundRefusal';
  constructor(
    readonly reason: DeclineReason,
    message: string,
    readonly epsilon?: { spent: number; limit: number; round: number },
    /**
     * What the coordinator is told instead of `message`, when the message holds what must stay
     * at the site (a local path, figures read from its records); `message` stays in the site's
     * own log and audit log.
     */
    readonly reported?: string,
  ) {
    super(message);
  }
}

/** A refusal of the round's parameters (DECLINE_REASON_PARAMETERS_REFUSED) naming why. */
export const refuse = (m: string) => new RoundRefusal(DeclineReason.DECLINE_REASON_PARAMETERS_REFUSED, m);

/**
 * The announcement decoded and checked by libs/protocol (decodeAnnouncement): a malformed field
 * is a refusal of the round's parameters, naming the field.
 */
export function decodeOrRefuse(a: RoundAnnouncement): Announcement {
  try {
    return decodeAnnouncement(a);
  } catch (err) {
    if (err instanceof WireFieldError) throw refuse(`the announcement's ${err.message}`);
    throw err;
  }
}

/** Runs a libs/protocol check; its TermsRefusedError becomes the site's refusal. */
function refusing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TermsRefusedError) throw refuse(err.message);
    throw err;
  }
}

/**
 * The release a round announcement describes, recomputed by the site from the announced terms
 * and its own teacher count (libs/protocol releaseFromTerms: the noise share must be the site's
 * own computation, a round without noise needs node.yaml privacy.allowNonPrivate, the input
 * must fit the announced bound). Anything else is refused with a reason.
 */
export function releaseFromAnnouncement(
  a: RoundAnnouncement,
  schema: FederationSchema,
  teachers: number,
  allowNonPrivate: boolean,
): { spec: ReleaseSpec; plan: ReleasePlan } {
  const terms = decodeOrRefuse(a);
  return refusing(() =>
    releaseFromTerms(terms, { classes: schema.labels.length, teachers, allowNonPrivate }),
  );
}

/**
 * The evaluation an announcement asks for, recomputed by the site like a distillation release:
 * its own count of test records, the noise checked against the announced figures.
 */
export function evaluationFromAnnouncement(
  a: RoundAnnouncement,
  schema: FederationSchema,
  testRecords: number,
  allowNonPrivate: boolean,
): { spec: EvaluationSpec; plan: ReleasePlan } {
  const terms = decodeOrRefuse(a);
  return refusing(() =>
    evaluationFromTerms(terms, { classes: schema.labels.length, testRecords, allowNonPrivate }),
  );
}

/**
 * The class-sum release an announcement asks for (libs/protocol classSumsFromTerms): the
 * announced feature count must be this site's own extractor's output size, the noise share the
 * site's own computation, and its records are capped to what the announced bound allows.
 */
export function classSumsFromAnnouncement(
  a: RoundAnnouncement,
  schema: FederationSchema,
  site: { readonly records: number; readonly features: number },
  allowNonPrivate: boolean,
): { spec: ReleaseSpec; plan: ReleasePlan } {
  const terms = decodeOrRefuse(a);
  return refusing(() =>
    classSumsFromTerms(terms, { classes: schema.labels.length, allowNonPrivate, ...site }),
  );
}

/** Reference inputs at `indices`, as float32 row-major, from the federation's reference NPY. */
export function referenceRows(
  file: string,
  indices: readonly number[],
  shape: readonly number[],
): Float32Array {
  const npy = parseNpy(file, new Uint8Array(fs.readFileSync(file)));
  const per = shape.reduce((x, y) => x * y, 1);
  const rows = npy.shape[0] ?? 0;
  if (npy.data instanceof BigInt64Array)
    throw new RangeError(`${file}: 64-bit integer reference sets are not supported`);
  const out = new Float32Array(indices.length * per);
  for (const [i, row] of indices.entries()) {
    if (!Number.isInteger(row) || row < 0 || row >= rows)
      throw new RoundRefusal(
        DeclineReason.DECLINE_REASON_PARAMETERS_REFUSED,
        `query index ${row} is outside the reference set's ${rows} rows`,
      );
    for (let j = 0; j < per; j += 1) out[i * per + j] = Number(npy.data[row * per + j]);
  }
  return out;
}
