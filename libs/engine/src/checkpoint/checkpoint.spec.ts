import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import type { TrainingSnapshot } from '../runner/trainer';

const snapshot: TrainingSnapshot = {
  params: new Map([
    ['fc1.weight', Float32Array.from([1.5, -2, 3.25])],
    ['fc1.bias', Float32Array.from([0.125])],
  ]),
  buffers: new Map([['bn1.runningVar', Float32Array.from([1, 2])]]),
  optimizer: new Map([['fc1.weight.m', Float32Array.from([0.5, 0.25, -1])]]),
  step: 42,
};

describe(decodeCheckpoint.name, () => {
  it('round-trips every group and the step count', () => {
    const sut = decodeCheckpoint(encodeCheckpoint(snapshot));
    expect(sut.step).toBe(42);
    expect([...sut.params]).toEqual([...snapshot.params]);
    expect([...sut.buffers]).toEqual([...snapshot.buffers]);
    expect([...sut.optimizer]).toEqual([...snapshot.optimizer]);
  });

  it('rejects a wrong magic number', () => {
    const bytes = encodeCheckpoint(snapshot);
    bytes[0] = 0x58;
    expect(() => decodeCheckpoint(bytes)).toThrow(
      new CheckpointError('not a fedistill checkpoint (bad magic)'),
    );
  });

  it('rejects truncated files naming the entry', () => {
    const bytes = encodeCheckpoint(snapshot);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(
      /truncated in 'fc1.weight.m'/,
    );
    expect(() => decodeCheckpoint(bytes.subarray(0, 20))).toThrow(/truncated inside its header/);
  });
});
