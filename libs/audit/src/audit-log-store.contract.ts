import { AuditSequenceError, type AuditLogStore } from './store';
import type { AuditEntry } from './entry';

const entry = (seq: number): AuditEntry => ({
  v: '1',
  seq: String(seq),
  time: '2026-01-01T00:00:00.000Z',
  actor: 'site-a',
  event: 'egress',
  federation: '',
  round: '',
  kind: 'k',
  peer: 'coordinator',
  bytes: '10',
  sha256: '',
  epsilon: '',
  epsilonTotal: '',
  epsilonLimit: '',
  detail: `#${seq}`,
  prev: '',
  hash: `h${seq}`,
  signature: '',
});

/** The contract every AuditLogStore adapter passes. */
export function describeAuditLogStoreContract(adapter: string, factory: () => AuditLogStore): void {
  describe(`AuditLogStore contract: ${adapter}`, () => {
    let sut: AuditLogStore;
    beforeEach(() => {
      sut = factory();
    });
    afterEach(() => sut.close());

    it('appends in sequence and reads back in order', async () => {
      expect(await sut.head()).toBeUndefined();
      for (const seq of [1, 2, 3]) await sut.append(entry(seq));
      expect((await sut.head())?.seq).toBe('3');
      expect((await sut.range(2, 3)).map((e) => e.detail)).toEqual(['#2', '#3']);
      expect((await sut.all()).map((e) => e.seq)).toEqual(['1', '2', '3']);
      expect(await sut.all()).toContainEqual(entry(2));
    });

    it('refuses an entry that is not the next one, changing nothing', async () => {
      await sut.append(entry(1));
      await expect(sut.append(entry(3))).rejects.toThrow(AuditSequenceError);
      await expect(sut.append(entry(1))).rejects.toThrow('entry seq 1 is not the next one (2)');
      expect((await sut.all()).length).toBe(1);
    });
  });
}
