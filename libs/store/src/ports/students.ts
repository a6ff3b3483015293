/** A published student: its ONNX file is the artifact `sha256`. */
export interface StudentRecord {
  readonly federationId: string;
  /** 1, 2, ... per federation. */
  readonly version: number;
  /** SHA-256 of the student ONNX (an artifact of kind 'student'), hex. */
  readonly sha256: string;
  /** The rounds whose targets the student was distilled from, ascending. */
  readonly rounds: readonly number[];
  /** The model card (JSON value). */
  readonly modelCard: unknown;
  readonly createdAt: number;
}

/** Published students, versioned per federation. */
export interface StudentStore {
  /** Throws StudentExistsError when the federation already has this version. */
  create(record: StudentRecord): Promise<void>;
  get(federationId: string, version: number): Promise<StudentRecord | undefined>;
  /** The highest version, if any. */
  latest(federationId: string): Promise<StudentRecord | undefined>;
  /** The federation's students, oldest first. */
  list(federationId: string): Promise<StudentRecord[]>;
}

export class StudentExistsError extends Error {
  override readonly name = 'StudentExistsError';
  constructor(
    readonly federation: string,
    readonly version: number,
  ) {
    super(`federation '${federation}' already has student version ${version}`);
  }
}
