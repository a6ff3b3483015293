import {
  AUTO_ORDER,
  cpuReference,
  openOrtSession,
  type ProbeOutcome,
  probeProvider,
  type SessionOpener,
} from '@fedistill/engine';
import type { NodeConfig } from '../node-config';
import { type DoctorCheck, failed, oneLine, passed, warned } from './doctor-check';

/** An execution provider the doctor can try. */
export type ProbedProvider = 'cpu' | 'webgpu' | 'cuda';
export const PROBED_PROVIDERS: readonly ProbedProvider[] = ['cpu', 'webgpu', 'cuda'];

/** The providers to try: cpu always, those node.yaml's executionProvider may use, and those asked for. */
function candidates(
  configured: NodeConfig['executionProvider'] | undefined,
  asked: readonly ProbedProvider[],
) {
  const fromConfig: ProbedProvider[] =
    configured === 'auto' ? ['cuda', 'webgpu'] : configured && configured !== 'cpu' ? [configured] : [];
  return [...new Set<ProbedProvider>(['cpu', ...fromConfig, ...asked])];
}

const fmt = (ms: number) => ms.toFixed(1);

function outcomeCheck(o: ProbeOutcome, needed: boolean): DoctorCheck {
  const name = `provider:${o.provider}`;
  if (o.ok) {
    const check = passed(
      name,
      `loads and runs the probe like cpu (session ${fmt(o.sessionMs)} ms, run ${fmt(o.runMs)} ms)`,
    );
    return { ...check, probe: { sessionMs: o.sessionMs, runMs: o.runMs, maxDiff: o.maxDiff } };
  }
  return needed
    ? failed(name, `does not load, and the node needs it: ${o.reason}`)
    : warned(name, `does not load: ${o.reason}`);
}

/**
 * Which ONNX Runtime execution providers really load here: each opens a session on the engine's
 * probe model (convolution, ReLU, dense) and must compute what cpu computes; the timing of that
 * session and run is reported. A provider node.yaml names explicitly must load (the node would
 * fail without it); cpu must always load; a GPU provider only asked about, or that `auto` would
 * try, is a warning when missing, with what is missing and how to fix it.
 */
export async function checkProviders(
  configured: NodeConfig['executionProvider'] | undefined,
  asked: readonly ProbedProvider[],
  open: SessionOpener = openOrtSession,
): Promise<DoctorCheck[]> {
  let reference: Float32Array;
  try {
    reference = await cpuReference(open);
  } catch (err) {
    return [failed('provider:cpu', `does not load, and the node needs it: ${oneLine(err).slice(0, 300)}`)];
  }
  const checks: DoctorCheck[] = [];
  const loaded: ProbedProvider[] = [];
  for (const provider of candidates(configured, asked)) {
    const outcome = await probeProvider(provider, reference, { open });
    if (outcome.ok) loaded.push(provider);
    checks.push(outcomeCheck(outcome, provider === 'cpu' || provider === configured));
  }
  if (configured === 'auto') {
    const pick = AUTO_ORDER.find((p) => loaded.includes(p));
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
