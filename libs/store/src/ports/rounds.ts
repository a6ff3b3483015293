/** One round of a federation as the round engine persists it after every transition. */
export interface RoundRecord {
  readonly federationId: string;
  readonly round: number;
  readonly status: 'open' | 'completed' | 'abandoned';
  /** The secure-aggregation stage (keys, shares, inputs, unmask, done, abandoned). */
  readonly stage: string;
  /** The engine's whole state as JSON text (configuration, the coordinator state machine, stage outputs). */
  readonly engine: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Rounds, written after every stage transition so a restarted coordinator resumes them. */
export interface RoundStore {
  /** Throws RoundExistsError when the federation already has this round number. */
  create(record: RoundRecord): Promise<void>;
  /** Replaces the stored record of (federationId, round). */
  save(record: RoundRecord): Promise<void>;
  get(federationId: string, round: number): Promise<RoundRecord | undefined>;
  /** The federation's rounds, oldest first. */
  list(federationId: string): Promise<RoundRecord[]>;
  /** Every open round of every federation. */
  open(): Promise<RoundRecord[]>;
}

export class RoundExistsError extends Error {
  override readonly name = 'RoundExistsError';
  constructor(
    readonly federation: string,
    readonly round: number,
  ) {
    super(`federation '${federation}' already has round ${round}`);
  }
}
