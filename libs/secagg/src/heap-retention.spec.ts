/**
 * Issue 11, finding 8: the glibc heap-retention trick of prg.ts changes the allocator of the whole
 * process, so importing or using the library must not trigger it; only an entry point that opts
 * in (bench/secagg.ts) does.
 */
const BIG = 16 * 1024 * 1024;

describe('heap retention (prg.ts)', () => {
  let allocSlow: jest.SpyInstance;
  beforeEach(() => {
    jest.resetModules();
    allocSlow = jest.spyOn(Buffer, 'allocUnsafeSlow');
  });
  afterEach(() => allocSlow.mockRestore());

  const bigCalls = (): number => allocSlow.mock.calls.filter(([size]) => Number(size) >= BIG).length;

  it('is not invoked by importing the package nor by masking large vectors', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const secagg = require('./index') as typeof import('./index');
    const target = new Uint32Array(1 << 20);
    const streams = [1, 2, 3].map((i) => ({
      key: secagg.deriveMaskKey(new Uint8Array(32).fill(i), 'pair', 'heap-test', [i]),
      sign: 1 as const,
    }));
    // 1 Mi words x 3 streams: past the size (1 Mi words x streams) at which the old code
    // changed the allocator on the first mask.
    secagg.applyMasks(target, streams);
    secagg.applyMask(target, secagg.deriveMaskKey(new Uint8Array(32), 'self', 'heap-test', [1]), -1);
    expect(bigCalls()).toBe(0);
  });

  it('runs once, when an entry point opts in with enableHeapRetention()', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { enableHeapRetention } = require('./index') as typeof import('./index');
    expect(enableHeapRetention()).toBe(true);
    expect(enableHeapRetention()).toBe(false);
    expect(bigCalls()).toBe(1);
  });
});
