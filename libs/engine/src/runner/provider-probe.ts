import * as ort from 'onnxruntime-node';
import type { SessionTuning } from './session-tuning';
import { Graph } from '../graph/graph';
import { add, matmul, relu } from '../ops/math';
import { conv2d } from '../ops/nn';
import { flatten } from '../ops/shape-ops';
import { emitModel } from '../onnx/emit';
import { diagnoseProviderFailure, type ProviderHost } from './provider-diagnosis';

/** A provider ONNX Runtime can really run on (what `auto` resolves to). */
export type ConcreteProvider = 'cpu' | 'webgpu' | 'cuda';

/** Opens a session on one provider, or returns why it could not (tests inject failures with it). */
export type SessionOpener = (
  model: Uint8Array,
  ep: string,
  threads: number,
  /** Spinning and profiling (see session-tuning.ts); absent: ORT's defaults. */
  tuning?: SessionTuning,
) => Promise<ort.InferenceSession | Error>;

/** The probe graph's input [1, 1, 4, 4] and its constants, exported so specs can recompute the result. */
export const PROBE_INPUT = Float32Array.from({ length: 16 }, (_, i) => (i % 5) - 2);
/** Two 3x3 filters [2, 1, 3, 3]: a vertical edge and a Laplacian. */
export const PROBE_FILTERS = Float32Array.from([1, 0, -1, 1, 0, -1, 1, 0, -1, 0, 1, 0, 1, -4, 1, 0, 1, 0]);
/** Dense weights [8, 3], row-major. */
export const PROBE_WEIGHTS = Float32Array.from({ length: 24 }, (_, i) => (((i * 3) % 7) - 3) / 4);
export const PROBE_BIAS = Float32Array.from([0.5, -0.25, 0.125]);

/**
 * A model using the kinds of op teachers run (Conv, Relu, MatMul, Add, Flatten):
 * y = flatten(relu(conv3x3(x))) x W + b, on a fixed input, with three outputs.
 */
export function probeModel(): Uint8Array {
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 1, 4, 4]);
  const conv = relu(conv2d(x, g.constant(PROBE_FILTERS, [2, 1, 3, 3], 'filters')));
  const y = add(
    matmul(flatten(conv), g.constant(PROBE_WEIGHTS, [8, 3], 'w')),
    g.constant(PROBE_BIAS, [3], 'b'),
  );
  g.output('y', y);
  return emitModel(g, { mode: 'inference', paramValues: new Map() });
}

/** Largest allowed difference from the CPU result: 1% of max(1, |cpu value|) (TF32 matmuls on GPUs stay far inside). */
export function probeTolerance(reference: number): number {
  return 0.01 * Math.max(1, Math.abs(reference));
}

/** How running the probe on one provider went. */
export type ProbeOutcome =
  | {
      readonly provider: ConcreteProvider;
      readonly ok: true;
      /** Opening the session, ms. */
      readonly sessionMs: number;
      /** One run of the probe, ms. */
      readonly runMs: number;
      /** Largest difference from the CPU result. */
      readonly maxDiff: number;
    }
  | { readonly provider: ConcreteProvider; readonly ok: false; readonly reason: string };

export interface ProbeOptions {
  /** Intra-op threads for the sessions (>= 1); default 1. */
  readonly threads?: number;
  /** Session opener; default onnxruntime-node's InferenceSession.create. */
  readonly open?: SessionOpener;
  /** Where the diagnosis looks for the provider's libraries; default this process's onnxruntime-node. */
  readonly host?: ProviderHost;
}

async function runOnce(session: ort.InferenceSession): Promise<Float32Array> {
  const out = await session.run({ x: new ort.Tensor('float32', PROBE_INPUT, [1, 1, 4, 4]) });
  return out['y']!.data as Float32Array;
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * Opens a session on `provider`, runs the probe model once and compares the result with the CPU
 * provider's. The outcome is `ok` only when the session opened, ran, and agreed with CPU within
 * {@link probeTolerance}; otherwise `reason` says what failed, for a provider that does not load
 * naming what is missing and how to fix it (see diagnoseProviderFailure).
 */
export async function probeProvider(
  provider: ConcreteProvider,
  reference: Float32Array,
  o: ProbeOptions & { readonly open: SessionOpener },
): Promise<ProbeOutcome> {
  const threads = o.threads ?? 1;
  const model = probeModel();
  const started = process.hrtime.bigint();
  const opened = await o.open(model, provider, threads);
  if (opened instanceof Error)
    return { provider, ok: false, reason: diagnoseProviderFailure(provider, opened, o.host) };
  const sessionMs = ms(started);
  try {
    const ran = process.hrtime.bigint();
    const got = await runOnce(opened);
    const runMs = ms(ran);
    let maxDiff = 0;
    let bad = -1;
    reference.forEach((want, i) => {
      const d = Math.abs((got[i] ?? Number.NaN) - want);
      maxDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(maxDiff, d);
      if (bad < 0 && !(d <= probeTolerance(want))) bad = i;
    });
    if (got.length !== reference.length || bad >= 0) {
      const fmt = (a: ArrayLike<number>) => Array.from(a, (v) => Number(v.toPrecision(6))).join(', ');
      return {
        provider,
        ok: false,
        reason: `the session opened but computed the probe wrongly: [${fmt(got)}] where cpu gives [${fmt(reference)}]`,
      };
    }
    return { provider, ok: true, sessionMs, runMs, maxDiff };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      provider,
      ok: false,
      reason: `the session opened but running the probe failed: ${firstLine(message)}`,
    };
  } finally {
    await opened.release();
  }
}

/** The probe's result on the CPU provider (the reference the others are compared with). */
export async function cpuReference(open: SessionOpener, threads = 1): Promise<Float32Array> {
  const session = await open(probeModel(), 'cpu', threads);
  // The CPU provider is always present: its failure is a broken installation, not a missing GPU.
  if (session instanceof Error) throw session;
  try {
    return Float32Array.from(await runOnce(session));
  } finally {
    await session.release();
  }
}

export function firstLine(message: string): string {
  return (message.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 300);
}
