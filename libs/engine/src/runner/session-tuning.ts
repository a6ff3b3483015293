import type * as ort from 'onnxruntime-node';

/** How a session's threads behave, besides provider and thread count. */
export interface SessionTuning {
  /**
   * Whether idle intra-op threads spin (busy-wait) for the next parallel section; default true
   * (ORT's default). Spinning saves wake-up latency on an idle machine but burns the cores that
   * other processes need on a busy one (docs/benchmarks.md, "Why PyTorch swung 10×").
   */
  readonly allowSpinning?: boolean;
  /** Writes an ORT profile (JSON, per-op times) to a file starting with this prefix; a Trainer
   * writes it on dispose(). */
  readonly profilePrefix?: string;
}

/** The ORT session options that carry a {@link SessionTuning}. */
export function tuningOptions(t: SessionTuning = {}): ort.InferenceSession.SessionOptions {
  return {
    ...(t.profilePrefix ? { enableProfiling: true, profileFilePrefix: t.profilePrefix } : {}),
    extra: { session: { intra_op: { allow_spinning: t.allowSpinning === false ? '0' : '1' } } },
  };
}

/** The tuning fields of a larger options object. */
export function tuningOf(o: SessionTuning): SessionTuning {
  return {
    ...(o.allowSpinning !== undefined ? { allowSpinning: o.allowSpinning } : {}),
    ...(o.profilePrefix ? { profilePrefix: o.profilePrefix } : {}),
  };
}
