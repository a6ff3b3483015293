import { federationEpsilon, type RoundPlan } from '@fedistill/protocol';
import { decodeState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import type { RoundSnapshot } from '../rounds/live-round';

/** One ended round, as the book keeps it. */
interface EndedRound {
  readonly plan: RoundPlan;
  readonly completed: boolean;
  /** Sites whose masked input arrived: each charged its ledger for the round's release. */
  readonly contributors: readonly string[];
}

/** Where the book reads what happened before this process started. */
export interface EpsilonBookSource {
  federations(): Promise<ReadonlyArray<{ id: string; members: readonly string[]; delta: number }>>;
  rounds(federationId: string): Promise<readonly RoundRecord[]>;
}

export interface EpsilonFigures {
  readonly federations: ReadonlyArray<{ federation: string; epsilon: number }>;
  readonly sites: ReadonlyArray<{ federation: string; site: string; epsilon: number }>;
}

const contributorsOf = (s: Pick<RoundSnapshot, 'plan' | 'coordinator'>): string[] =>
  s.coordinator.inputs.map((id) => s.plan.participants.find((p) => p.siteId === id)?.siteName ?? String(id));

/**
 * The epsilon figures the metrics show, kept from ended rounds: per federation, its completed
 * rounds composed at its delta (what privacy.epsilonCap and the model card count; an abandoned
 * round revealed nothing); per site of a federation, the rounds its masked input reached,
 * completed or not (its node charged its ledger before sending), composed the same way. Both use
 * the one composition of libs/protocol federationEpsilon, under the plans' announced noise
 * assumption: a site whose node.yaml trusts less (privacy.trust paranoid, with a plan that counts
 * on other sites' noise) charges its own ledger more, and its node's own metrics show that figure.
 * Seeded from the store on first use, then kept current by {@link record}.
 */
export class EpsilonBook {
  private readonly ended = new Map<string, Map<number, EndedRound>>();
  private seeded: Promise<void> | undefined;

  constructor(private readonly source: EpsilonBookSource) {}

  /** A round that just ended (round engine event). */
  record(plan: RoundPlan, completed: boolean, contributors: readonly string[]): void {
    const rounds = this.ended.get(plan.federationId) ?? new Map<number, EndedRound>();
    rounds.set(plan.round, { plan, completed, contributors: [...contributors] });
    this.ended.set(plan.federationId, rounds);
  }

  private seed(): Promise<void> {
    this.seeded ??= (async () => {
      for (const f of await this.source.federations())
        for (const r of await this.source.rounds(f.id)) {
          if (r.status === 'open' || this.ended.get(f.id)?.has(r.round)) continue;
          const s = decodeState<RoundSnapshot>(r.engine);
          this.record(s.plan, r.status === 'completed', contributorsOf(s));
        }
    })().catch((err: unknown) => {
      this.seeded = undefined; // try again at the next scrape
      throw err;
    });
    return this.seeded;
  }

  /** Every federation's figure, and every member's (0 before its first round). */
  async figures(): Promise<EpsilonFigures> {
    await this.seed();
    const federations: Array<{ federation: string; epsilon: number }> = [];
    const sites: Array<{ federation: string; site: string; epsilon: number }> = [];
    for (const f of await this.source.federations()) {
      const rounds = [...(this.ended.get(f.id)?.values() ?? [])].sort((a, b) => a.plan.round - b.plan.round);
      const completed = rounds.filter((r) => r.completed).map((r) => r.plan);
      federations.push({ federation: f.id, epsilon: federationEpsilon(completed, f.delta).epsilon });
      const names = new Set([...f.members, ...rounds.flatMap((r) => r.contributors)]);
      for (const site of [...names].sort()) {
        const charged = rounds.filter((r) => r.contributors.includes(site)).map((r) => r.plan);
        sites.push({ federation: f.id, site, epsilon: federationEpsilon(charged, f.delta).epsilon });
      }
    }
    return { federations, sites };
  }
}
