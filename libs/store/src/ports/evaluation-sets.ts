/** A federation's labelled evaluation set (kept by the coordinator, never served to sites). */
export interface EvaluationSetRecord {
  readonly federationId: string;
  /** SHA-256 of the inputs NPY and of the labels NPY (artifacts of kind 'evaluation-set'), hex. */
  readonly inputsSha256: string;
  readonly labelsSha256: string;
  readonly rows: number;
  readonly createdAt: number;
}

/** At most one evaluation set per federation; registering another replaces it. */
export interface EvaluationSetStore {
  put(record: EvaluationSetRecord): Promise<void>;
  get(federationId: string): Promise<EvaluationSetRecord | undefined>;
}
