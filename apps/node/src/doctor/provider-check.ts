import { emitModel, Graph, INFERENCE_INPUT, INFERENCE_LOGITS, matmul, Predictor } from '@fedistill/engine';
import type { NodeConfig } from '../node-config';
import { type DoctorCheck, failed, oneLine, passed, warned } from './doctor-check';

/** An execution provider the doctor can try. */
export type ProbedProvider = 'cpu' | 'webgpu' | 'cuda';
export const PROBED_PROVIDERS: readonly ProbedProvider[] = ['cpu', 'webgpu', 'cuda'];

const WEIGHTS = Float32Array.from([1, 2, 3, 4]); // [2, 2], row-major
const INPUT = Float32Array.from([1, -1]);

/** A one-layer model: logits = input [1, 2] x WEIGHTS [2, 2]. */
function tinyModel(): Uint8Array {
  const g = new Graph();
  const x = g.input(INFERENCE_INPUT, 'float32', [null, 2]);
  g.output(INFERENCE_LOGITS, matmul(x, g.constant(WEIGHTS, [2, 2], 'weights')));
  return emitModel(g, { mode: 'inference', paramValues: new Map() });
}

/** INPUT x WEIGHTS, worked out here rather than by ONNX Runtime. */
function expected(): number[] {
  return [0, 1].map((j) => INPUT[0]! * WEIGHTS[j]! + INPUT[1]! * WEIGHTS[2 + j]!);
}

/** Opens a session on `provider` and runs the tiny model once; the reason it cannot, or undefined. */
async function probe(model: Uint8Array, provider: ProbedProvider): Promise<string | undefined> {
  let predictor: Predictor | undefined;
  try {
    predictor = await Predictor.create(model, [2], { provider, threads: 1 });
    const got = Array.from(await predictor.outputs(INPUT, 1));
    const want = expected();
    if (got.some((v, i) => Math.abs(v - want[i]!) > 1e-5))
      return `the session ran but computed [${got.join(', ')}] instead of [${want.join(', ')}]`;
    return undefined;
  } catch (err) {
    return oneLine(err).slice(0, 300);
  } finally {
    await predictor?.dispose();
  }
}

/** The providers to try: cpu always, those node.yaml's executionProvider may use, and those asked for. */
function candidates(
  configured: NodeConfig['executionProvider'] | undefined,
  asked: readonly ProbedProvider[],
) {
  const fromConfig: ProbedProvider[] =
    configured === 'auto' ? ['cuda', 'webgpu'] : configured && configured !== 'cpu' ? [configured] : [];
  return [...new Set<ProbedProvider>(['cpu', ...fromConfig, ...asked])];
}

/**
 * Which ONNX Runtime execution providers really load here, by running a tiny model on each. A
 * provider node.yaml names explicitly must load (the node would fail without it); cpu must always
 * load; a GPU provider that is only asked about, or that `auto` would try, is a warning when missing.
 */
export async function checkProviders(
  configured: NodeConfig['executionProvider'] | undefined,
  asked: readonly ProbedProvider[],
): Promise<DoctorCheck[]> {
  const model = tinyModel();
  const checks: DoctorCheck[] = [];
  const loaded: ProbedProvider[] = [];
  for (const provider of candidates(configured, asked)) {
    const name = `provider:${provider}`;
    const problem = await probe(model, provider);
    if (problem === undefined) {
      loaded.push(provider);
      checks.push(passed(name, 'loads and runs a model'));
    } else if (provider === 'cpu' || provider === configured) {
      checks.push(failed(name, `does not load, and the node needs it: ${problem}`));
    } else {
      checks.push(warned(name, `does not load: ${problem}`));
    }
  }
  if (configured === 'auto') {
    const pick = (['cuda', 'webgpu', 'cpu'] as const).find((p) => loaded.includes(p));
    checks.push(
      pick
        ? passed(
            'provider:auto',
            `executionProvider auto would use ${pick} (the first of cuda, webgpu, cpu that loads)`,
          )
        : failed('provider:auto', 'no execution provider loads'),
    );
  }
  return checks;
}
