import * as ort from 'onnxruntime-node';
import { diagnoseProviderFailure, type ProviderHost } from './provider-diagnosis';
import { type SessionTuning, tuningOf, tuningOptions } from './session-tuning';
import {
  type ConcreteProvider,
  cpuReference,
  firstLine,
  type ProbeOutcome,
  probeProvider,
  type SessionOpener,
} from './provider-probe';

export type { ConcreteProvider, SessionOpener } from './provider-probe';

/**
 * Where ONNX Runtime runs. `auto` tries cuda, then webgpu (expected speed order), keeps the first
 * that opens a session and computes a probe model like cpu does, and otherwise uses cpu.
 */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda' | 'auto';

/** Logger the engine reports to (no global logger in libraries). */
export interface EngineLogger {
  warn(message: string): void;
  info?(message: string): void;
}

/** An explicitly requested execution provider cannot run here; `reason` says what is missing and how to fix it. */
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
export interface SessionOptions extends SessionTuning {
  readonly provider?: ExecutionProvider;
  /** Intra-op threads (>= 1); default 2. Set explicitly: ORT's default uses every core. */
  readonly threads?: number;
  readonly logger?: EngineLogger;
}

/** Which provider a request resolved to, and why the ones tried before it were refused. */
export interface ProviderSelection {
  readonly requested: ExecutionProvider;
  readonly provider: ConcreteProvider;
  /** Providers `auto` tried and refused, in the order tried, each with its reason. */
  readonly refused: ReadonlyArray<{ readonly provider: ConcreteProvider; readonly reason: string }>;
  /** The probe on the chosen provider (absent for cpu, which needs none). */
  readonly probe?: Extract<ProbeOutcome, { ok: true }>;
}

function sessionOptions(
  ep: string,
  threads: number,
  tuning?: SessionTuning,
): ort.InferenceSession.SessionOptions {
  return {
    ...tuningOptions(tuning),
    executionProviders: [ep],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
}

/** onnxruntime-node's InferenceSession.create, with a failure returned rather than thrown. */
export const openOrtSession: SessionOpener = async (model, ep, threads, tuning) => {
  try {
    return await ort.InferenceSession.create(model, sessionOptions(ep, threads, tuning));
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
};

const PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda', 'auto'];
/** `auto`'s order: expected speed for training, fastest first. */
export const AUTO_ORDER: readonly ConcreteProvider[] = ['cuda', 'webgpu', 'cpu'];

function checkOptions(o: SessionOptions): { threads: number; requested: ExecutionProvider } {
  const threads = o.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError("'threads' must be an integer >= 1");
  const requested = o.provider ?? 'cpu';
  if (!PROVIDERS.includes(requested))
    throw new RangeError(`'provider' must be cpu, webgpu, cuda or auto, got '${String(requested)}'`);
  return { threads, requested };
}

/** One line for logs: which provider was chosen and why the others were refused. */
export function describeSelection(s: ProviderSelection): string {
  const probe = s.probe
    ? ` (probe matched cpu; session ${s.probe.sessionMs.toFixed(1)} ms, run ${s.probe.runMs.toFixed(1)} ms)`
    : '';
  const refused = s.refused.map((r) => `${r.provider} refused: ${r.reason}`).join('; ');
  return `execution provider ${s.requested} -> ${s.provider}${probe}${refused ? `; ${refused}` : ''}`;
}

/**
 * Resolves a requested provider to one that really works here, without opening the caller's
 * model: `cpu` as is; `webgpu` and `cuda` after the probe model ran on them and matched cpu
 * (else ProviderUnavailableError naming what is missing); `auto` to the first of cuda, webgpu
 * that passes the probe, else cpu, recording why each was refused. Logs the choice.
 */
export async function selectProvider(
  o: SessionOptions & { readonly open?: SessionOpener; readonly host?: ProviderHost } = {},
): Promise<ProviderSelection> {
  const { requested } = checkOptions(o);
  if (requested === 'cpu') return { requested, provider: 'cpu', refused: [] };
  const open = o.open ?? openOrtSession;
  const reference = await cpuReference(open);
  const refused: { provider: ConcreteProvider; reason: string }[] = [];
  for (const provider of requested === 'auto' ? AUTO_ORDER : [requested]) {
    if (provider === 'cpu') break;
    const outcome = await probeProvider(provider, reference, { open, host: o.host });
    if (outcome.ok) {
      const selection = { requested, provider, refused, probe: outcome };
      o.logger?.info?.(describeSelection(selection));
      return selection;
    }
    if (requested !== 'auto') throw new ProviderUnavailableError(provider, outcome.reason);
    refused.push({ provider, reason: outcome.reason });
  }
  const selection: ProviderSelection = { requested, provider: 'cpu', refused };
  o.logger?.warn(`${describeSelection(selection)}; using cpu`);
  return selection;
}

/**
 * Creates an ORT session on the requested provider (`auto` is resolved by {@link selectProvider}
 * first; callers opening many sessions resolve once and pass the concrete provider).
 * @throws ProviderUnavailableError when `webgpu` or `cuda` was asked for and cannot be used.
 */
export async function createSession(
  model: Uint8Array,
  o: SessionOptions = {},
): Promise<{ session: ort.InferenceSession; provider: ConcreteProvider }> {
  return createSessionWith(openOrtSession, model, o);
}

/** {@link createSession} with the opener injected (tests simulate missing GPUs with it). */
export async function createSessionWith(
  open: SessionOpener,
  model: Uint8Array,
  o: SessionOptions & { readonly host?: ProviderHost } = {},
): Promise<{ session: ort.InferenceSession; provider: ConcreteProvider }> {
  const { threads, requested } = checkOptions(o);
  const provider = requested === 'auto' ? (await selectProvider({ ...o, open })).provider : requested;
  const res = await open(model, provider, threads, tuningOf(o));
  if (!(res instanceof Error)) return { session: res, provider };
  // The CPU provider is always present: its failure means the model itself is invalid.
  if (provider === 'cpu') throw res;
  if (requested !== 'auto')
    throw new ProviderUnavailableError(provider, diagnoseProviderFailure(provider, res, o.host));
  // auto: the provider ran the probe but not this model (an operator it lacks, say): cpu runs it.
  o.logger?.warn(
    `execution provider auto: ${provider} passed the probe but cannot open this model (${firstLine(res.message)}); using cpu`,
  );
  const cpu = await open(model, 'cpu', threads, tuningOf(o));
  if (cpu instanceof Error) throw cpu;
  return { session: cpu, provider: 'cpu' };
}
