/** Where a running coordinator says how to reach it (ports may be 0 in the config). */
export const RUNTIME_FILE = 'coordinator.runtime.json';

/** The content of DATA_DIR/coordinator.runtime.json while the coordinator runs. */
export interface RuntimeInfo {
  readonly pid: number;
  readonly grpcAddress: string;
  readonly adminUrl: string;
  readonly startedAt: string;
}
