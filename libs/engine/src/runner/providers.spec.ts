/** @jest-environment ./libs/engine/test-support/ort-environment.js */
import type * as ort from 'onnxruntime-node';
import { Graph } from '../graph/graph';
import { relu } from '../ops/math';
import { emitModel } from '../onnx/emit';
import { createSession, createSessionWith, ProviderUnavailableError, type SessionOpener } from './providers';

function tinyModel(): Uint8Array {
  const g = new Graph();
  g.output('y', relu(g.input('x', 'float32', [2])));
  return emitModel(g, { mode: 'training' });
}

// Simulates a machine without GPUs: cuda and webgpu fail as ORT fails when their libraries
// or adapters are missing; cpu opens a real session.
const cpuOnly: SessionOpener = async (model, ep, threads) =>
  ep === 'cpu'
    ? (await createSession(model, { provider: 'cpu', threads })).session
    : new Error(`${ep}: Failed to load shared library`);

describe(createSession.name, () => {
  it('opens a cpu session by default', async () => {
    const sut = await createSession(tinyModel());
    expect(sut.provider).toBe('cpu');
    await sut.session.release();
  });

  it('falls back from auto to cpu with a logged warning', async () => {
    const warnings: string[] = [];
    const sut = await createSessionWith(cpuOnly, tinyModel(), {
      provider: 'auto',
      logger: { warn: (m) => warnings.push(m) },
    });
    expect(sut.provider).toBe('cpu');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cuda: .*webgpu: .*training on cpu/);
    await (sut.session as ort.InferenceSession).release();
  });

  it('fails with a clear message when an explicit provider cannot be used', async () => {
    await expect(createSessionWith(cpuOnly, tinyModel(), { provider: 'webgpu' })).rejects.toThrow(
      new ProviderUnavailableError('webgpu', 'webgpu: Failed to load shared library'),
    );
  });

  it('rejects unknown providers and bad thread counts naming the argument', async () => {
    await expect(createSession(tinyModel(), { provider: 'tpu' as never })).rejects.toThrow(/'provider'/);
    await expect(createSession(tinyModel(), { threads: 0 })).rejects.toThrow(/'threads'/);
  });
});
