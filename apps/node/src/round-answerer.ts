import * as fs from 'node:fs';
import { type ServiceError, status } from '@grpc/grpc-js';
import { BudgetExceededError, cryptoRandom, type RandomSource } from '@fedistill/dp';
import {
  argmaxRows,
  type ReleasePlan,
  siteEvaluationRelease,
  siteRelease,
  type TeacherEnsemble,
} from '@fedistill/distill';
import { Predictor } from '@fedistill/engine';
import { SecAggError } from '@fedistill/secagg';
import { DeclineReason, type RoundAnnouncement, RoundsService, SummaryKind } from '@fedistill/wire';
import type { AuditChain } from '@fedistill/audit';
import type { NodeEgress } from './egress';
import type { LocalFederation } from './federation-sync';
import { checkRoundMembership, MembershipRefusedError } from './membership-check';
import type { NodeConfig } from './node-config';
import type { SessionLogger } from './node-session';
import type { ParticipationHooks, RoundParticipant } from './round-participant';
import { announcementRecord, recordReceived } from './received-log';
import {
  federationSchema,
  type FederationSchema,
  loadSiteData,
  type SiteData,
  siteTeachers,
} from './site-data';
import { priceRound } from './round-price';
import {
  evaluationFromAnnouncement,
  referenceRows,
  refuse,
  releaseFromAnnouncement,
  RoundRefusal,
} from './announcement-checks';
import type { SiteLedger } from './site-ledger';

/** What the site released in a round (or why it did not). */
export type RoundAnswer =
  | {
      readonly status: 'answered';
      readonly round: string;
      readonly epsilon: number | null;
      readonly epsilonTotal: number;
    }
  | { readonly status: 'declined'; readonly round: string; readonly reason: string }
  /** The coordinator closed the round (abandoned, say) before this site finished its part. */
  | { readonly status: 'ended'; readonly round: string; readonly reason: string };

interface Prepared {
  readonly schema: FederationSchema;
  readonly data: SiteData;
  readonly teachers: TeacherEnsemble;
}

export interface AnswererOptions {
  readonly config: NodeConfig;
  readonly egress: NodeEgress;
  readonly audit: AuditChain;
  readonly ledger: SiteLedger;
  readonly participant: RoundParticipant;
  /** The node's copy of a federation (synced and digest-checked). */
  readonly federation: (id: string, referenceSha256: string) => Promise<LocalFederation>;
  readonly log: SessionLogger;
  /** Noise and rounding randomness: the CSPRNG (a seeded source only in tests). */
  readonly random?: RandomSource;
  readonly hooks?: ParticipationHooks;
  /** The verified ONNX file of a published student (downloading it first if needed), for evaluation rounds. */
  readonly student?: (federationId: string, version: number) => Promise<string>;
}

/**
 * A site answering rounds by itself: on each announcement it recomputes the release from the
 * announced parameters, prices it with its own ledger and refuses (reported as DeclineRound and
 * recorded as a 'refusal' in its audit log) when its epsilon limit would be passed; otherwise it
 * runs its teachers on the queried reference inputs, builds the clipped, rounded and noised
 * summary, records the spend durably and answers through secure aggregation. Rounds are answered
 * one at a time, so quotes and commits never interleave.
 */
export class RoundAnswerer {
  private readonly prepared = new Map<string, Promise<Prepared>>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly handled = new Map<string, Promise<RoundAnswer>>();
  private active = 0;

  constructor(private readonly o: AnswererOptions) {}

  /** Loads the site's data and trains its teachers for a federation (once; reused by every round). */
  prepare(local: LocalFederation): Promise<Prepared> {
    let p = this.prepared.get(local.id);
    if (!p) {
      p = (async () => {
        const schema = federationSchema(local.id, local.spec);
        const data = await loadSiteData(this.o.config, schema);
        const started = Date.now();
        const teachers = await siteTeachers(this.o.config, schema, data);
        this.o.log.info(
          {
            federation: local.id,
            teachers: teachers.size,
            records: data.train.count,
            testRecords: data.test?.count ?? 0,
            provider: this.o.config.executionProvider,
            ms: Date.now() - started,
          },
          'teachers ready',
        );
        return { schema, data, teachers };
      })();
      p.catch(() => this.prepared.delete(local.id));
      this.prepared.set(local.id, p);
    }
    return p;
  }

  /** The site's test split and schema for a federation, once prepared (for evaluating students). */
  async local(local: LocalFederation): Promise<{ schema: FederationSchema; test: SiteData['test'] }> {
    const p = await this.prepare(local);
    return { schema: p.schema, test: p.data.test };
  }

  /**
   * Releases the teachers' ONNX Runtime sessions when no round is in progress (a node stopping
   * mid-round does not wait for it: the process exit releases them).
   */
  async close(): Promise<void> {
    if (this.active > 0) return;
    for (const p of this.prepared.values()) await p.then((x) => x.teachers.dispose()).catch(() => undefined);
    this.prepared.clear();
  }

  /** Answers (or declines) one announced round; rounds queue one after another. */
  handle(a: RoundAnnouncement): Promise<RoundAnswer> {
    // The coordinator may announce a round again (after this node reconnects): answer it once.
    const label = a.round ? `${a.round.federationId}#${a.round.round}` : '';
    const earlier = this.handled.get(label);
    if (earlier) return earlier;
    this.active += 1;
    const next = this.queue.then(() => this.answer(a)).finally(() => (this.active -= 1));
    this.queue = next.catch(() => undefined);
    if (label) this.handled.set(label, next);
    return next;
  }

  private async answer(a: RoundAnnouncement): Promise<RoundAnswer> {
    const ref = a.round;
    const label = ref ? `${ref.federationId}#${ref.round}` : '(no round)';
    const { ledger, log } = this.o;
    try {
      if (!ref) throw new RoundRefusal(DeclineReason.DECLINE_REASON_PARAMETERS_REFUSED, 'no round named');
      await this.checkMembership(a);
      let prepared: Prepared;
      let local: LocalFederation;
      try {
        local = await this.o.federation(ref.federationId, Buffer.from(a.referenceSha256).toString('hex'));
        prepared = await this.prepare(local);
      } catch (err) {
        if (err instanceof RoundRefusal) throw err;
        throw new RoundRefusal(DeclineReason.DECLINE_REASON_UNAVAILABLE, (err as Error).message);
      }
      const { plan, compute } = await this.release(a, local, prepared);
      let context = {};
      let commit: (() => Promise<void>) | undefined;
      let epsilon: number | null = null;
      const price = priceRound(plan, this.o.config.privacy.trust, ledger, label);
      if (price) {
        const { release, quote, refusal } = price;
        epsilon = price.epsilon;
        if (refusal)
          throw new RoundRefusal(DeclineReason.DECLINE_REASON_BUDGET_EXHAUSTED, refusal, {
            spent: quote.epsilonBefore,
            limit: ledger.epsilonLimit,
            round: epsilon,
          });
        context = {
          epsilon,
          epsilonTotal: quote.epsilonAfter,
          epsilonLimit: ledger.epsilonLimit,
          assumption: price.assumption,
          // Recorded in the egress entry: what `node ledger rebuild` recomposes (site-ledger.ts).
          charge: release,
        };
        commit = () => {
          ledger.commit(release);
          return Promise.resolve();
        };
      }
      const values = await compute();
      const hooks = this.o.hooks ?? {};
      await this.o.participant.play(
        a,
        values,
        {
          ...hooks,
          beforeInput: async () => {
            // The spend is durable before the masked input (the release) leaves the node.
            await commit?.();
            await hooks.beforeInput?.();
          },
        },
        context,
      );
      const drill = this.o.hooks?.stopAfter;
      log.info(
        {
          round: label,
          epsilon,
          epsilonTotal: ledger.spent,
          epsilonLimit: ledger.epsilonLimit,
          assumption: price?.assumption,
        },
        drill ? `dropout drill: stopped after sending ${drill}` : 'round answered',
      );
      return { status: 'answered', round: label, epsilon, epsilonTotal: ledger.spent };
    } catch (caught) {
      // The site's own secure-aggregation checks refusing what the coordinator sent (a delivery
      // with too few sharers, a survivor set it cannot sign, too few signatures; issue 11) are
      // refusals like any other: logged, recorded in the audit log and reported.
      const err = caught instanceof SecAggError ? refuse(`${caught.name}: ${caught.message}`) : caught;
      if ((err as ServiceError).code === status.ABORTED) {
        const reason = (err as ServiceError).details;
        log.info({ round: label, reason }, 'the round ended before this site finished its part');
        return { status: 'ended', round: label, reason };
      }
      if (!(err instanceof RoundRefusal) && !(err instanceof BudgetExceededError)) {
        log.error({ round: label, reason: (err as Error).message }, 'round failed');
        throw err;
      }
      const refusal =
        err instanceof RoundRefusal
          ? err
          : new RoundRefusal(DeclineReason.DECLINE_REASON_BUDGET_EXHAUSTED, err.message);
      await this.decline(a, refusal);
      return { status: 'declined', round: label, reason: refusal.message };
    }
  }

  /**
   * Records what the announcement says that decides this site's privacy (participants, key
   * fingerprints, noise plan), then refuses a round whose membership the site's operator did
   * not approve (membership-check.ts), before anything is computed or sent.
   */
  private async checkMembership(a: RoundAnnouncement): Promise<void> {
    const where = { federation: a.round?.federationId, round: a.round?.round };
    await recordReceived(this.o.audit, 'NodeSession/RoundAnnounced', where, announcementRecord(a));
    try {
      checkRoundMembership(a, this.o.config);
    } catch (err) {
      if (!(err instanceof MembershipRefusedError)) throw err;
      throw new RoundRefusal(DeclineReason.DECLINE_REASON_MEMBERSHIP_REFUSED, err.message);
    }
  }

  /** The round's release (priced before anything is computed) and how to compute the site's values. */
  private async release(
    a: RoundAnnouncement,
    local: LocalFederation,
    prepared: Prepared,
  ): Promise<{ plan: ReleasePlan; compute: () => Promise<Int32Array> }> {
    const random = this.o.random ?? cryptoRandom;
    const allow = this.o.config.privacy.allowNonPrivate;
    if (a.summaryKind !== SummaryKind.SUMMARY_KIND_EVALUATION) {
      const { spec, plan } = releaseFromAnnouncement(a, prepared.schema, prepared.teachers.size, allow);
      const compute = async () => {
        const x = referenceRows(local.referenceFile, a.queryIndices, prepared.schema.inputShape);
        const probs = await prepared.teachers.probabilities(x, a.queryIndices.length, a.temperature);
        return siteRelease(probs, spec, plan, random);
      };
      return { plan, compute };
    }
    const test = prepared.data.test;
    if (!test || test.count === 0)
      throw new RoundRefusal(
        DeclineReason.DECLINE_REASON_UNAVAILABLE,
        'this site has no local test split (data.test or data.testFraction)',
      );
    if (!this.o.student)
      throw new RoundRefusal(DeclineReason.DECLINE_REASON_UNAVAILABLE, 'this node keeps no students');
    const { spec, plan } = evaluationFromAnnouncement(a, prepared.schema, test.count, allow);
    const file = await this.o.student(local.id, a.studentVersion).catch((err: Error) => {
      throw new RoundRefusal(
        DeclineReason.DECLINE_REASON_UNAVAILABLE,
        `student v${a.studentVersion} is not available here: ${err.message}`,
      );
    });
    const compute = async () => {
      const predictor = await Predictor.create(
        new Uint8Array(fs.readFileSync(file)),
        prepared.schema.inputShape,
        { provider: this.o.config.executionProvider },
      );
      try {
        const logits = await predictor.logits(test.features, test.count);
        const predicted = argmaxRows(logits, prepared.schema.labels.length);
        return siteEvaluationRelease(predicted, test.labels, spec, plan, random);
      } finally {
        await predictor.dispose();
      }
    };
    return { plan, compute };
  }

  private async decline(a: RoundAnnouncement, r: RoundRefusal): Promise<void> {
    const ref = a.round;
    const detail = r.message.slice(0, 500);
    await this.o.audit.append({
      event: 'refusal',
      federation: ref?.federationId,
      round: ref ? String(ref.round) : undefined,
      kind: 'Rounds/DeclineRound',
      detail: `declined round: ${detail}`,
      epsilon: r.epsilon ? String(r.epsilon.round) : undefined,
      epsilonTotal: r.epsilon ? String(r.epsilon.spent) : undefined,
      epsilonLimit: r.epsilon ? String(r.epsilon.limit) : undefined,
    });
    this.o.log.warn({ round: ref, reason: detail }, 'round declined');
    if (!ref) return;
    await this.o.egress.unary(
      RoundsService.declineRound,
      {
        round: ref,
        reason: r.reason,
        detail,
        epsilonSpent: r.epsilon?.spent ?? this.o.ledger.spent,
        epsilonLimit: r.epsilon?.limit ?? this.o.ledger.epsilonLimit,
        roundEpsilon: r.epsilon?.round ?? 0,
      },
      { context: { federation: ref.federationId, round: ref.round } },
    );
  }
}
