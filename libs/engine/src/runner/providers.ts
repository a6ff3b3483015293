import * as ort from 'onnxruntime-node';

/** Where ONNX Runtime runs: `auto` tries cuda, then webgpu, then falls back to cpu with a warning. */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda' | 'auto';

/** Logger the engine reports to (no global logger in libraries). */
export interface EngineLogger {
  warn(message: string): void;
  info?(message: string): void;
}

/** An explicitly requested execution provider cannot run here. */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly provider: string,
    readonly reason: string,
  ) {
    super(`execution provider '${provider}' is unavailable: ${reason}`);
    this.name = 'ProviderUnavailableError';
  }
}

/** Session settings shared by training and inference. */
export interface SessionOptions {
  readonly provider?: ExecutionProvider;
  /** Intra-op threads (>= 1); default 2. Set explicitly: ORT's default uses every core. */
  readonly threads?: number;
  readonly logger?: EngineLogger;
}

function sessionOptions(ep: string, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
}

async function tryCreate(
  model: Uint8Array,
  ep: string,
  threads: number,
): Promise<ort.InferenceSession | Error> {
  try {
    return await ort.InferenceSession.create(model, sessionOptions(ep, threads));
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * Creates an ORT session on the requested provider.
 * @throws ProviderUnavailableError when `webgpu` or `cuda` was asked for and cannot be used.
 */
export async function createSession(
  model: Uint8Array,
  o: SessionOptions = {},
): Promise<{ session: ort.InferenceSession; provider: 'cpu' | 'webgpu' | 'cuda' }> {
  return createSessionWith(tryCreate, model, o);
}

/** Opens a session on one provider, or returns why it could not. */
export type SessionOpener = (
  model: Uint8Array,
  ep: string,
  threads: number,
) => Promise<ort.InferenceSession | Error>;

/** {@link createSession} with the opener injected (tests simulate missing GPUs with it). */
export async function createSessionWith(
  open: SessionOpener,
  model: Uint8Array,
  o: SessionOptions = {},
): Promise<{ session: ort.InferenceSession; provider: 'cpu' | 'webgpu' | 'cuda' }> {
  const threads = o.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError("'threads' must be an integer >= 1");
  const requested = o.provider ?? 'cpu';
  if (!['cpu', 'webgpu', 'cuda', 'auto'].includes(requested)) {
    throw new RangeError(`'provider' must be cpu, webgpu, cuda or auto, got '${String(requested)}'`);
  }
  const candidates: ('cpu' | 'webgpu' | 'cuda')[] =
    requested === 'auto' ? ['cuda', 'webgpu', 'cpu'] : [requested];
  const reasons: string[] = [];
  for (const ep of candidates) {
    const res = await open(model, ep, threads);
    if (!(res instanceof Error)) {
      if (requested === 'auto' && ep === 'cpu') {
        o.logger?.warn(`no GPU execution provider could be used (${reasons.join('; ')}); training on cpu`);
      }
      return { session: res, provider: ep };
    }
    // The CPU provider is always present: its failure means the model itself is invalid.
    if (ep === 'cpu') throw res;
    const reason = res.message.split('\n')[0]!.slice(0, 300);
    if (requested !== 'auto') throw new ProviderUnavailableError(ep, reason);
    reasons.push(`${ep}: ${reason}`);
  }
  throw new ProviderUnavailableError(requested, reasons.join('; '));
}
