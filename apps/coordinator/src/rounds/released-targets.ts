import type { GetReleasedTargetsRequest, GetReleasedTargetsResponse } from '@fedistill/wire';
import type { CoordinatorStore } from '@fedistill/store';
import { federationSpecSchema } from '@fedistill/protocol';
import { RequestInvalidError } from '../domain/errors';
import type { FederationService } from '../federation/federation.service';
import type { CallContext, MethodSpec } from '../grpc/secure-service';
import { completedRounds } from '../students/completed-rounds';
import { accumulateTargets, targetRuleOf } from '../students/distillation-targets';

/** Largest `probs` field of one page (the wire limit of GetReleasedTargetsResponse.probs). */
export const RELEASED_TARGETS_PAGE_BYTES = 1_048_576;
/** Largest `rows` field of one page (the wire limit of GetReleasedTargetsResponse.rows). */
export const RELEASED_TARGETS_PAGE_ROWS = 100_000;

/** Rows of one page for `classes` classes: as many float32 rows as fit the byte limit, at least one. */
export function releasedTargetsPageRows(classes: number): number {
  return Math.max(
    1,
    Math.min(RELEASED_TARGETS_PAGE_ROWS, Math.floor(RELEASED_TARGETS_PAGE_BYTES / (4 * classes))),
  );
}

/**
 * Rounds.GetReleasedTargets: the targets of every completed distillation round numbered below
 * `before_round`, exactly those the student publisher trains on (`accumulateTargets` over
 * `completedRounds`), for a member site's digest and revisit between rounds (FedMD, Li and Wang
 * 2019, arXiv:1910.03581, §2). They are post-processing of the released noisy sums, the same
 * for every member. Non-members get NOT_FOUND (no existence oracle, as GetFederation). Paged
 * by `start`, so one response stays within the wire limits whatever the class count.
 */
export function releasedTargetsMethod(store: CoordinatorStore, federations: FederationService): MethodSpec {
  return {
    requestType: 'GetReleasedTargetsRequest',
    handler: async (
      req: GetReleasedTargetsRequest,
      ctx: CallContext,
    ): Promise<GetReleasedTargetsResponse> => {
      const before = Number(req.beforeRound);
      if (!Number.isSafeInteger(before) || before < 1)
        throw new RequestInvalidError('field before_round must be a round number >= 1');
      const view = await federations.forMember(req.federationId, ctx.site?.name ?? '');
      // Definitions stored before the distillation section existed get its defaults.
      const distillation = federationSpecSchema.shape.distillation.parse(view.distillation ?? {});
      const classes = view.labels.length;
      const rounds = completedRounds(await store.rounds.list(view.id)).filter((r) => r.round < before);
      const data = accumulateTargets(rounds, targetRuleOf(distillation), classes);
      const total = data.rows.length;
      if (req.start > total)
        throw new RequestInvalidError(`field start ${req.start} is past the ${total} answered rows`);
      const end = Math.min(total, req.start + releasedTargetsPageRows(classes));
      const probs = data.probs.slice(req.start * classes, end * classes);
      return {
        rows: data.rows.slice(req.start, end),
        numClasses: classes,
        probs: Buffer.from(probs.buffer, probs.byteOffset, probs.byteLength),
        totalRows: total,
        rounds: rounds.map((r) => r.round),
      };
    },
  };
}
