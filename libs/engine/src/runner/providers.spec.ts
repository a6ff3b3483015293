/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import type * as ort from 'onnxruntime-node';
import { Graph } from '../graph/graph';
import { emitModel } from '../onnx/emit';
import { neg, relu } from '../ops/math';
import { defaultProviderHost } from './provider-diagnosis';
import { probeModel } from './provider-probe';
import {
  createSession,
  createSessionWith,
  openOrtSession,
  ProviderUnavailableError,
  selectProvider,
  type SessionOpener,
} from './providers';

function tinyModel(): Uint8Array {
  const g = new Graph();
  g.output('y', relu(g.input('x', 'float32', [2])));
  return emitModel(g, { mode: 'training' });
}

/** The probe's signature with another computation: what a provider with a broken kernel would give. */
function wrongProbe(): Uint8Array {
  const g = new Graph();
  g.input('x', 'float32', [1, 1, 4, 4]);
  g.output('y', neg(g.constant(Float32Array.from([1, 2, 3]), [1, 3], 'c')));
  return emitModel(g, { mode: 'inference', paramValues: new Map() });
}

const isProbe = (model: Uint8Array) => Buffer.from(model).equals(Buffer.from(probeModel()));

/** A machine where `gpus` open (really a cpu session) and every other GPU provider fails to load. */
function machine(gpus: Partial<Record<'cuda' | 'webgpu', 'works' | 'wrong' | 'probe-only'>>): SessionOpener {
  return async (model, ep, threads) => {
    if (ep === 'cpu') return openOrtSession(model, 'cpu', threads);
    const gpu = gpus[ep as 'cuda' | 'webgpu'];
    if (gpu === 'wrong') return openOrtSession(isProbe(model) ? wrongProbe() : model, 'cpu', threads);
    if (gpu === 'works' || (gpu === 'probe-only' && isProbe(model)))
      return openOrtSession(model, 'cpu', threads);
    return new Error(`${ep}: Failed to load shared library`);
  };
}

function logger() {
  const lines = { info: [] as string[], warn: [] as string[] };
  return {
    lines,
    logger: { info: (m: string) => lines.info.push(m), warn: (m: string) => lines.warn.push(m) },
  };
}

const vulkanHere = defaultProviderHost().loadError('libvulkan.so.1') === undefined;

describe(createSession.name, () => {
  it('opens a cpu session by default', async () => {
    const sut = await createSession(tinyModel());
    expect(sut.provider).toBe('cpu');
    await sut.session.release();
  });

  it('refuses cuda on this machine naming the provider library path ONNX Runtime looked for and the fix', async () => {
    const sut = createSession(tinyModel(), { provider: 'cuda' });
    await expect(sut).rejects.toThrow(ProviderUnavailableError);
    await expect(sut).rejects.toThrow(
      /^execution provider 'cuda' is unavailable: ONNX Runtime 1\.30\.0 looked for its CUDA provider in \/\S+\/onnxruntime-node\/bin\/napi-v6\/linux\/x64 and libonnxruntime_providers_shared\.so and libonnxruntime_providers_cuda\.so are not there .*Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux 1\.30\.0 .*docs\/gpu\.md$/,
    );
  });

  it('refuses webgpu on this machine saying what is missing and how to fix it', async () => {
    const sut = createSession(tinyModel(), { provider: 'webgpu' });
    await expect(sut).rejects.toThrow(
      vulkanHere
        ? /^execution provider 'webgpu' is unavailable: the Vulkan loader is installed but found no GPU .*VK_DRIVER_FILES/
        : /^execution provider 'webgpu' is unavailable: the Vulkan loader libvulkan\.so\.1 is not installed .*install libvulkan1/,
    );
  });

  it('falls back from auto to cpu on this machine, logging why cuda and webgpu were refused', async () => {
    const { lines, logger: log } = logger();
    const sut = await createSession(tinyModel(), { provider: 'auto', logger: log });
    expect(sut.provider).toBe('cpu');
    expect(lines.warn).toHaveLength(1);
    expect(lines.warn[0]).toMatch(
      /^execution provider auto -> cpu; cuda refused: ONNX Runtime .*libonnxruntime_providers_shared\.so.*; webgpu refused: the Vulkan .*; using cpu$/,
    );
    await sut.session.release();
  });

  it('fails with a clear message when an explicit provider cannot be used (injected)', async () => {
    await expect(createSessionWith(machine({}), tinyModel(), { provider: 'webgpu' })).rejects.toThrow(
      /^execution provider 'webgpu' is unavailable: /,
    );
  });

  it("uses auto's GPU choice for the model, and cpu when that provider cannot open the model", async () => {
    const ok = await createSessionWith(machine({ webgpu: 'works' }), tinyModel(), { provider: 'auto' });
    expect(ok.provider).toBe('webgpu');
    await (ok.session as ort.InferenceSession).release();
    const { lines, logger: log } = logger();
    const fallback = await createSessionWith(machine({ cuda: 'probe-only' }), tinyModel(), {
      provider: 'auto',
      logger: log,
    });
    expect(fallback.provider).toBe('cpu');
    expect(lines.warn.at(-1)).toMatch(
      /^execution provider auto: cuda passed the probe but cannot open this model/,
    );
    await fallback.session.release();
  });

  it('rejects unknown providers and bad thread counts naming the argument', async () => {
    await expect(createSession(tinyModel(), { provider: 'tpu' as never })).rejects.toThrow(/'provider'/);
    await expect(createSession(tinyModel(), { threads: 0 })).rejects.toThrow(/'threads'/);
  });
});

describe(selectProvider.name, () => {
  it('picks cpu for cpu without probing', async () => {
    const open = jest.fn(openOrtSession);
    expect(await selectProvider({ provider: 'cpu', open })).toEqual({
      requested: 'cpu',
      provider: 'cpu',
      refused: [],
    });
    expect(open).not.toHaveBeenCalled();
  });

  it('picks cuda before webgpu when both pass the probe, and says so with the probe timing', async () => {
    const { lines, logger: log } = logger();
    const sut = await selectProvider({
      provider: 'auto',
      open: machine({ cuda: 'works', webgpu: 'works' }),
      logger: log,
    });
    expect(sut.provider).toBe('cuda');
    expect(sut.refused).toEqual([]);
    expect(sut.probe?.maxDiff).toBe(0);
    expect(lines.info).toEqual([
      expect.stringMatching(
        /^execution provider auto -> cuda \(probe matched cpu; session [\d.]+ ms, run [\d.]+ ms\)$/,
      ),
    ]);
  });

  it('refuses a provider that opens but computes the probe wrongly, and takes the next', async () => {
    const sut = await selectProvider({ provider: 'auto', open: machine({ cuda: 'wrong', webgpu: 'works' }) });
    expect(sut.provider).toBe('webgpu');
    expect(sut.refused).toEqual([
      {
        provider: 'cuda',
        reason: expect.stringMatching(
          /^the session opened but computed the probe wrongly: \[-1, -2, -3\] where cpu gives \[/,
        ),
      },
    ]);
  });

  it('refuses an explicit provider that computes the probe wrongly', async () => {
    await expect(selectProvider({ provider: 'cuda', open: machine({ cuda: 'wrong' }) })).rejects.toThrow(
      /^execution provider 'cuda' is unavailable: the session opened but computed the probe wrongly/,
    );
  });
});
