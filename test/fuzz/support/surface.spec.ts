import { fuzzBytes, mutateBytes } from './mutators';
import { mutateProtobuf } from './protobuf';
import { Rng } from './rng';
import { type FuzzSurface, refusedWith, runCase, runSurface } from './surface';

class KnownError extends Error {}

/** A surface whose behaviour each test chooses: what it throws or returns for an input. */
const surface = (
  feed: (b: Uint8Array) => unknown,
  validate?: (r: unknown) => string | undefined,
): FuzzSurface<Uint8Array> => ({
  name: 'test',
  generate: (rng) => rng.bytes(8),
  feed,
  validate,
  refusal: refusedWith(KnownError),
});

describe(runCase.name, () => {
  it('counts a case that burns CPU past the hang limit, not one that only waits (a busy machine)', async () => {
    const busy = await runCase(
      surface(
        () => {
          const until = process.cpuUsage().user + 120_000;
          while (process.cpuUsage().user < until);
          return 1;
        },
        () => undefined,
      ),
      1,
      50,
    );
    expect(busy.outcome).toBe('finding');
    expect(busy.finding).toMatch(/used \d+ ms of CPU .*hang limit 50 ms of CPU/);
    const waiting = await runCase(
      surface(
        () => new Promise((resolve) => setTimeout(() => resolve(1), 150)),
        () => undefined,
      ),
      1,
      50,
    );
    expect(waiting.outcome).toBe('accepted');
    expect(waiting.ms).toBeGreaterThanOrEqual(140);
  });

  it('counts a typed refusal that names its cause, and an accepted valid result', async () => {
    expect(
      (
        await runCase(
          surface(() => {
            throw new KnownError('field x: is required');
          }),
          1,
        )
      ).outcome,
    ).toBe('refused');
    expect(
      (
        await runCase(
          surface(
            () => 3,
            () => undefined,
          ),
          1,
        )
      ).outcome,
    ).toBe('accepted');
  });

  it('reports as findings: another error type, a refusal naming nothing, an invalid accepted result', async () => {
    const typeError = await runCase(
      surface(() => {
        throw new TypeError('x is undefined');
      }),
      7,
    );
    expect(typeError).toMatchObject({ outcome: 'finding' });
    expect(typeError.finding).toMatch(/^test case 7: threw TypeError: x is undefined; expected KnownError/);
    const vague = await runCase(
      surface(() => {
        throw new KnownError('bad');
      }),
      7,
    );
    expect(vague.finding).toMatch(/refusal does not name its cause: 'bad'/);
    const invalid = await runCase(
      surface(
        () => -1,
        (r) => `count ${String(r)}`,
      ),
      7,
    );
    expect(invalid.finding).toMatch(/accepted an invalid input: count -1/);
  });

  it('reproduces a case from its seed alone', async () => {
    const seen: string[] = [];
    const s = surface((b) => seen.push(Buffer.from(b).toString('hex')));
    await runSurface(s, 3, 40);
    await runSurface(s, 3, 40);
    expect(seen.slice(0, 3)).toEqual(seen.slice(3));
    expect(new Set(seen.slice(0, 3)).size).toBe(3);
  });
});

describe('mutators', () => {
  it('never change the valid inputs they start from, Buffers included', () => {
    // A Buffer's slice() is a view: an early version flipped bits in the seeds themselves.
    const seeds = [Buffer.from('a,b,label\n1,2,0\n'), new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9])];
    const copies = seeds.map((s) => Buffer.from(s).toString('hex'));
    for (let seed = 0; seed < 2000; seed += 1) {
      const rng = new Rng(seed);
      fuzzBytes(rng, seeds);
      mutateBytes(rng, seeds[0]!, seeds);
      mutateProtobuf(rng, seeds[1]!);
    }
    expect(seeds.map((s) => Buffer.from(s).toString('hex'))).toEqual(copies);
  });

  it('re-encodes a protobuf tree with its lengths fixed', () => {
    // field 1: varint 150; field 2: a message holding field 1 = "hi".
    const message = Uint8Array.from([0x08, 0x96, 0x01, 0x12, 0x04, 0x0a, 0x02, 0x68, 0x69]);
    let changed = 0;
    for (let seed = 0; seed < 200; seed += 1) {
      const out = mutateProtobuf(new Rng(seed), message);
      expect(out).toBeDefined();
      if (Buffer.compare(Buffer.from(out!), Buffer.from(message)) !== 0) changed += 1;
      // Whatever changed, every length prefix still matches: the result parses as protobuf again.
      expect(
        mutateProtobuf(new Rng(seed + 1), out!) ?? (out!.length === 0 ? new Uint8Array(0) : undefined),
      ).toBeDefined();
    }
    expect(changed).toBeGreaterThan(150);
    expect(mutateProtobuf(new Rng(1), Uint8Array.from([0xff]))).toBeUndefined();
  });
});
