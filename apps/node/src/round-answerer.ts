import { type ServiceError, status } from '@grpc/grpc-js';
import { BudgetExceededError, type RandomSource } from '@fedistill/dp';
import { SecAggError } from '@fedistill/secagg';
import { DeclineReason, type RoundAnnouncement, RoundsService, SummaryKind } from '@fedistill/wire';
import type { AuditChain } from '@fedistill/audit';
import { refuse, RoundRefusal } from './announcement-checks';
import type { NodeEgress } from './egress';
import type { LocalFederation } from './federation-sync';
import type { NodeConfig } from './node-config';
import type { SessionLogger } from './node-session';
import type { ParticipationHooks, RoundParticipant } from './round-participant';
import { chargeRound } from './round-charge';
import { admitAnnouncement, declineRound, unavailable } from './round-intake';
import { classSumRelease, distillationRelease, evaluationRelease, type RoundRelease } from './round-release';
import type { FederationSchema, SiteData } from './site-data';
import type { SiteLedger } from './site-ledger';
import { type PreparedSite, SitePreparation, teachersAuditEntry } from './site-preparation';
import { TeacherRevisit } from './teacher-revisit';

/** What the site released in a round (or why it did not). */
export type RoundAnswer =
  | {
      readonly status: 'answered';
      readonly round: string;
      readonly epsilon: number | null;
      readonly epsilonTotal: number;
    }
  | {
      readonly status: 'declined';
      readonly round: string;
      readonly reason: string;
      /** The reason code reported to the coordinator. */
      readonly code: DeclineReason;
    }
  /** The coordinator closed the round (abandoned, say) before this site finished its part. */
  | { readonly status: 'ended'; readonly round: string; readonly reason: string };

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
  /** The hooks for one round number (a drill limited to some rounds); replaces `hooks` when given. */
  readonly hooksFor?: (round: number) => ParticipationHooks | undefined;
  /** The verified ONNX file of a published student (downloading it first if needed), for evaluation rounds. */
  readonly student?: (federationId: string, version: number) => Promise<string>;
  /** Told each time teachers are ready for a federation (the same PreparedSite again once prepared). */
  readonly onPrepared?: (federationId: string, site: PreparedSite) => void;
}

/**
 * A site answering rounds by itself, one at a time (so quotes and commits never interleave).
 * Each announcement reads top to bottom: admit it (record it, check the approved membership:
 * round-intake.ts), prepare the site's data and teachers (site-preparation.ts), plan the release
 * from the announced terms (round-release.ts), price it with the site's own ledger and refuse
 * past the limit (round-charge.ts), digest and revisit if the federation asks for it
 * (teacher-revisit.ts), compute the summary and answer through secure aggregation, the spend
 * durable before the masked input leaves. A refusal is declined with its reason (round-intake.ts).
 */
export class RoundAnswerer {
  private readonly sites: SitePreparation;
  private readonly revisit: TeacherRevisit;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly handled = new Map<string, Promise<RoundAnswer>>();
  private active = 0;
  /** Prepared teachers whose provider is already in the audit log. */
  private readonly audited = new WeakSet<PreparedSite>();

  constructor(private readonly o: AnswererOptions) {
    this.sites = new SitePreparation(o.config, o.log);
    this.revisit = new TeacherRevisit({
      config: o.config,
      log: o.log,
      source: (federation, round) => (request) =>
        o.egress.unary(RoundsService.getReleasedTargets, request, { context: { federation, round } }),
    });
  }

  /** Loads the site's data and trains its teachers for a federation (once; reused by every round). */
  prepare(local: LocalFederation): Promise<PreparedSite> {
    const prepared = this.sites.prepare(local);
    const told = this.o.onPrepared;
    if (told)
      prepared.then(
        (site) => told(local.id, site),
        () => undefined,
      );
    return prepared;
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
    await this.sites.dispose();
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
    try {
      if (!ref) throw refuse('no round named');
      await admitAnnouncement(a, this.o.audit, this.o.config);
      const { local, site } = await this.site(ref.federationId, a.referenceSha256);
      if (!this.audited.has(site)) {
        // Which provider the teachers run on, and why others were refused, goes with the round.
        await this.o.audit.append(teachersAuditEntry(site, this.o.config, ref.federationId, ref.round));
        this.audited.add(site);
      }
      const release = await this.release(a, local, site);
      const charge = chargeRound(release.plan, this.o.config.privacy.trust, this.o.ledger, label);
      if (a.summaryKind !== SummaryKind.SUMMARY_KIND_EVALUATION)
        await this.revisit.beforeRound(ref.round, local, site);
      const values = await release.compute();
      const hooks = (this.o.hooksFor ? this.o.hooksFor(ref.round) : this.o.hooks) ?? {};
      const beforeInput = async () => {
        // The spend is durable before the masked input (the release) leaves the node.
        charge.commit();
        await hooks.beforeInput?.();
      };
      await this.o.participant.play(a, values, { ...hooks, beforeInput }, charge.context);
      const { ledger } = this.o;
      this.o.log.info(
        {
          round: label,
          epsilon: charge.epsilon,
          epsilonTotal: ledger.spent,
          epsilonLimit: ledger.epsilonLimit,
          assumption: charge.assumption,
          // With teachers.abstain: how many (teacher, query) answers were cast and withheld.
          ...(release.answers?.() ? { teacherAnswers: release.answers() } : {}),
        },
        hooks.stopAfter ? `dropout drill: stopped after sending ${hooks.stopAfter}` : 'round answered',
      );
      return { status: 'answered', round: label, epsilon: charge.epsilon, epsilonTotal: ledger.spent };
    } catch (caught) {
      return this.unanswered(a, label, caught);
    }
  }

  /** The federation's synced copy and the site's prepared teachers; a failure makes the site unavailable. */
  private async site(federationId: string, referenceSha256: Uint8Array) {
    try {
      const local = await this.o.federation(federationId, Buffer.from(referenceSha256).toString('hex'));
      return { local, site: await this.prepare(local) };
    } catch (err) {
      if (err instanceof RoundRefusal) throw err;
      throw unavailable(err);
    }
  }

  private release(a: RoundAnnouncement, local: LocalFederation, site: PreparedSite): Promise<RoundRelease> {
    const o = {
      allowNonPrivate: this.o.config.privacy.allowNonPrivate,
      random: this.o.random,
      provider: site.provider.provider,
      student: this.o.student,
    };
    if (a.summaryKind === SummaryKind.SUMMARY_KIND_EVALUATION) return evaluationRelease(a, local, site, o);
    if (a.summaryKind === SummaryKind.SUMMARY_KIND_CLASS_SUMS)
      return Promise.resolve(classSumRelease(a, site, o));
    return Promise.resolve(distillationRelease(a, local, site, o));
  }

  /** A round the site did not finish: ended by the coordinator, declined with a reason, or failed. */
  private async unanswered(a: RoundAnnouncement, label: string, caught: unknown): Promise<RoundAnswer> {
    const { log } = this.o;
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
    await declineRound(a, refusal, this.o);
    return { status: 'declined', round: label, reason: refusal.message, code: refusal.reason };
  }
}
