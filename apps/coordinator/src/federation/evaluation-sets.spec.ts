import { createHash } from 'node:crypto';
import type { AuditEntryInput } from '@fedistill/audit';
import { encodeNpyFloat32 } from '@fedistill/data';
import { type CoordinatorStore, openSqliteCoordinatorStore } from '@fedistill/store';
import { NodeEventHub } from '../domain/node-event-hub';
import { EvaluationSets, parseEvaluationSet } from './evaluation-sets';
import { FederationService } from './federation.service';

/** An NPY file of `descr` values (the header as numpy writes it). */
function npy(descr: string, shape: number[], data: ArrayBufferView): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = (64 - ((10 + dict.length + 1) % 64)) % 64;
  const header = Buffer.from(`${dict}${' '.repeat(pad)}\n`, 'latin1');
  const out = Buffer.alloc(10 + header.length + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0]);
  out.writeUInt16LE(header.length, 8);
  out.set(header, 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return new Uint8Array(out);
}

describe(EvaluationSets.name, () => {
  let store: CoordinatorStore;
  let sut: EvaluationSets;
  let referenceBytes: Uint8Array;
  const inputs = (rows: number, per = 3) =>
    encodeNpyFloat32(
      [rows, per],
      Float32Array.from({ length: rows * per }, (_v, i) => i / 7),
    );

  beforeEach(async () => {
    store = openSqliteCoordinatorStore(':memory:');
    const log = { append: (_e: AuditEntryInput) => Promise.resolve() };
    const federations = new FederationService(store, log, new NodeEventHub());
    referenceBytes = inputs(10);
    const { sha256 } = await federations.registerReferenceSet(referenceBytes);
    await federations.create({
      id: 'fed',
      labels: ['a', 'b', 'c'],
      input: { shape: [3] },
      referenceSet: { sha256 },
      student: { architecture: 'mlp' },
      privacy: { mechanism: 'none' },
    });
    sut = new EvaluationSets(store, federations, log);
  });
  afterEach(() => store.close());

  it('stores a valid set by content and loads it back', async () => {
    const x = inputs(4);
    const y = npy('<i4', [4], Int32Array.from([0, 2, 1, 2]));
    const view = await sut.register('fed', x, y);
    expect(view).toMatchObject({ federationId: 'fed', rows: 4 });
    expect((await store.artifacts.get(view.inputsSha256))?.kind).toBe('evaluation-set');
    const loaded = await sut.load('fed');
    expect([...loaded!.data.labels]).toEqual([0, 2, 1, 2]);
    expect(loaded!.data.featureShape).toEqual([3]);
    // Labels as uint8 with shape [rows, 1] are accepted too; a new set replaces the old one.
    const again = await sut.register('fed', inputs(2), npy('|u1', [2, 1], Uint8Array.from([1, 0])));
    expect(await sut.show('fed')).toEqual(again);
  });

  it.each([
    [
      'inputs of another shape',
      () => inputs(4, 2),
      () => npy('<i4', [4], new Int32Array(4)),
      /inputs have shape \[4, 2\]; the federation needs \[rows >= 1, 3\]/,
    ],
    ['float labels', () => inputs(2), () => npy('<f4', [2], new Float32Array(2)), /labels must be integers/],
    [
      'a label out of range',
      () => inputs(2),
      () => npy('<i4', [2], Int32Array.from([0, 3])),
      /label 3 of row 1 is not a class index in \[0, 3\)/,
    ],
    [
      'a negative label',
      () => inputs(2),
      () => npy('<i8', [2], BigInt64Array.from([0n, -1n])),
      /label -1 of row 1/,
    ],
    [
      'fewer labels than rows',
      () => inputs(3),
      () => npy('<i4', [2], new Int32Array(2)),
      /labels have shape \[2\]; expected \[3\]/,
    ],
    [
      'integer inputs',
      () => npy('<i4', [2, 3], new Int32Array(6)),
      () => npy('<i4', [2], new Int32Array(2)),
      /inputs must be float32 or float64/,
    ],
    [
      'a file that is not NPY',
      () => new Uint8Array([1, 2, 3]),
      () => npy('<i4', [2], new Int32Array(2)),
      /evaluation set: .*not an NPY file/,
    ],
    [
      'the reference set itself',
      () => referenceBytes,
      () => npy('<i4', [10], new Int32Array(10)),
      /are the reference set itself/,
    ],
  ])('refuses %s and stores nothing', async (_what, x, y, message) => {
    const [xb, yb] = [x(), y()];
    await expect(sut.register('fed', xb, yb)).rejects.toThrow(message);
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(await store.artifacts.get(digest(yb))).toBeUndefined();
    expect((await store.artifacts.get(digest(xb)))?.kind).toBe(
      xb === referenceBytes ? 'reference-set' : undefined,
    );
    expect(await store.evaluationSets.get('fed')).toBeUndefined();
    await expect(sut.show('fed')).rejects.toThrow("federation 'fed' has no evaluation set");
  });

  it('names an unknown federation', async () => {
    await expect(sut.register('nope', inputs(1), npy('<i4', [1], new Int32Array(1)))).rejects.toThrow(
      "federation 'nope' does not exist",
    );
  });
});

describe('reference and evaluation sets (inputs found by fuzzing, test/fuzz)', () => {
  const federations = () =>
    new FederationService(
      openSqliteCoordinatorStore(':memory:'),
      { append: (_e: AuditEntryInput) => Promise.resolve() },
      new NodeEventHub(),
    );
  const f32 = (...v: number[]) => Float32Array.from(v);

  it('refuses a reference set with no rows, an input dimension of 0 or a value that is not finite', async () => {
    // Fuzz cases 161 and 107 of 'reference set': shapes (0, 4) and (3, 1, 0, 2) were registered.
    const sut = federations();
    await expect(sut.registerReferenceSet(npy('<f4', [0, 4], f32()))).rejects.toThrow(
      'reference set: shape [0, 4] has a dimension of 0, so it holds no inputs',
    );
    await expect(sut.registerReferenceSet(npy('<f4', [3, 1, 0, 2], f32()))).rejects.toThrow(
      /shape \[3, 1, 0, 2\] has a dimension of 0/,
    );
    await expect(sut.registerReferenceSet(npy('<f4', [2, 2], f32(1, 2, NaN, 4)))).rejects.toThrow(
      'reference set: value NaN of row 1 is not a finite float32',
    );
    await expect(sut.registerReferenceSet(npy('<f8', [1, 2], Float64Array.from([0, 1e300])))).rejects.toThrow(
      'reference set: value 1e+300 of row 0 is not a finite float32',
    );
  });

  it('refuses evaluation inputs that are not finite', () => {
    // Fuzz case 176 of 'evaluation set': a bit flip made an input NaN; it was accepted.
    const labels = npy('<i4', [2], Int32Array.from([0, 1]));
    expect(() => parseEvaluationSet(npy('<f4', [2, 2], f32(1, 2, 3, NaN)), labels, [2], 3)).toThrow(
      'evaluation set: input value NaN of row 1 is not a finite float32',
    );
    expect(() => parseEvaluationSet(npy('<f4', [2, 2], f32(1, 2, 3, 4)), labels, [2], 3)).not.toThrow();
  });
});
