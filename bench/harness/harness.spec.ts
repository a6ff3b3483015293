import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { batchAt, readBatchFile, writeBatchFile } from './batch-file';
import { mallocEnv, measurePageFaultCost, RETAIN_TUNABLES } from './malloc';
import { compare, median, summarize } from './stats';
import {
  cpuComparison,
  firstPassComparison,
  parseReport,
  resultJson,
  runInterleaved,
  type SideCommand,
  type WorkerReport,
} from './interleave';

/** A side whose process is never started: the tests inject its reports. */
const side = (name: string): SideCommand => ({ name, command: 'unused', args: [] });

/** One pair whose workers report nothing beyond the required fields. */
const plainRun = () =>
  runInterleaved(side('a'), side('b'), {
    pairs: 1,
    maxSpread: 1,
    run: () => ({ samples_per_s: 1, peak_rss_kb: 1 }),
  });

describe('harness statistics', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/must not be empty/);
  });

  it('summarizes median, best, worst and (max - min) / median', () => {
    const sut = summarize([100, 90, 110, 95, 105]);
    expect(sut).toMatchObject({ median: 100, best: 110, worst: 90 });
    expect(sut.spread).toBeCloseTo(0.2, 12);
  });

  it('rejects empty, non-finite and non-positive samples, naming the side', () => {
    expect(() => summarize([], 'torch')).toThrow("'torch' needs at least one sample");
    expect(() => summarize([1, NaN], 'torch')).toThrow(/'torch' samples must be finite and > 0, got NaN/);
    expect(() => summarize([1, 0])).toThrow(/got 0/);
  });

  it('gives the ratio of medians and of bests when both sides are within the bound', () => {
    const sut = compare([300, 310, 290, 305, 295], [100, 102, 98, 101, 99], 0.1, ['engine', 'torch']);
    expect(sut.refused).toBeNull();
    expect(sut.ratioOfMedians).toBeCloseTo(3, 12);
    expect(sut.ratioOfBests).toBeCloseTo(310 / 102, 12);
  });

  it('refuses both ratios when one side is too noisy, and says which side and by how much', () => {
    // The PyTorch: 2,608 then 32,973 samples/s in two runs.
    const sut = compare([80_307, 64_502, 70_000], [2_608, 32_973, 3_000], 0.5, ['engine', 'torch']);
    expect(sut.ratioOfMedians).toBeNull();
    expect(sut.ratioOfBests).toBeNull();
    expect(sut.refused).toMatch(/spread of torch 10\.122 exceeds the bound 0\.5/);
    expect(sut.refused).not.toMatch(/engine/);
    expect(sut.a.median).toBe(70_000);
  });

  it('refuses at a spread just above the bound, not at the bound', () => {
    expect(compare([90, 100, 110], [100], 0.2).refused).toBeNull();
    expect(compare([90, 100, 110.01], [100], 0.2).refused).toMatch(/spread of A/);
  });

  it('rejects a bound that is not a positive number', () => {
    expect(() => compare([1], [1], 0)).toThrow("'maxSpread' must be a finite number > 0");
    expect(() => compare([1], [1], NaN)).toThrow(/maxSpread/);
  });
});

describe(runInterleaved.name, () => {
  it('alternates A, B, A, B and keeps each side its own samples and peak RSS', () => {
    const order: string[] = [];
    const speeds: Record<string, number[]> = { a: [10, 11, 12], b: [5, 5, 5] };
    const sut = runInterleaved(side('a'), side('b'), {
      pairs: 3,
      maxSpread: 0.5,
      run: (s): WorkerReport => {
        order.push(s.name);
        return {
          samples_per_s: speeds[s.name]!.shift()!,
          peak_rss_kb: s.name === 'a' ? 2048 : 1024 * order.length,
        };
      },
    });
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(sut.comparison.a.samples).toEqual([10, 11, 12]);
    expect(sut.comparison.ratioOfMedians).toBeCloseTo(11 / 5, 12);
    expect(sut.a.peakRssMb).toBe(2);
    expect(sut.b.peakRssMb).toBe(6);
    expect(sut.a.reports[0]).toHaveProperty('load_before');
  });

  it('stops at the first side that fails, naming it', () => {
    const run = (s: SideCommand): WorkerReport => {
      if (s.name === 'b') throw new Error("side 'b' exited with 1");
      return { samples_per_s: 1, peak_rss_kb: 1 };
    };
    expect(() => runInterleaved(side('a'), side('b'), { pairs: 5, maxSpread: 1, run })).toThrow("side 'b'");
  });

  it('rejects bad settings', () => {
    const run = (): WorkerReport => ({ samples_per_s: 1, peak_rss_kb: 1 });
    expect(() => runInterleaved(side('a'), side('b'), { pairs: 0, maxSpread: 1, run })).toThrow(/'pairs'/);
    expect(() => runInterleaved(side('a'), side('a'), { pairs: 1, maxSpread: 1, run })).toThrow(
      /different names/,
    );
  });
});

describe(cpuComparison.name, () => {
  const run =
    (cpu: Record<string, number[] | undefined>) =>
    (s: SideCommand): WorkerReport => {
      const c = cpu[s.name]?.shift();
      return { samples_per_s: 100, peak_rss_kb: 1, ...(c === undefined ? {} : { cpu_samples_per_s: c }) };
    };

  it('compares samples per CPU-second when both sides report them', () => {
    const r = runInterleaved(side('engine'), side('torch'), {
      pairs: 3,
      maxSpread: 0.25,
      run: run({ engine: [400, 410, 390], torch: [200, 190, 210] }),
    });
    expect(cpuComparison(r)?.ratioOfMedians).toBeCloseTo(2, 12);
    expect(resultJson(r)).toMatchObject({ cpu_ratio_of_medians: 2, cpu_refused: null, ratio_of_medians: 1 });
  });

  it('refuses the CPU ratio on its own spread, and is absent when a side does not report CPU time', () => {
    const noisy = runInterleaved(side('engine'), side('torch'), {
      pairs: 3,
      maxSpread: 0.25,
      run: run({ engine: [400, 100, 390], torch: [200, 190, 210] }),
    });
    expect(resultJson(noisy)).toMatchObject({ cpu_ratio_of_medians: null, ratio_of_medians: 1 });
    expect(resultJson(noisy)['cpu_refused']).toMatch(/spread of engine/);
    const missing = runInterleaved(side('engine'), side('torch'), {
      pairs: 1,
      maxSpread: 1,
      run: run({ engine: [1] }),
    });
    expect(cpuComparison(missing)).toBeNull();
    expect(resultJson(missing)).not.toHaveProperty('cpu_ratio_of_medians');
  });
});

describe(parseReport.name, () => {
  it('reads the last line as the report', () => {
    expect(parseReport('x', 'warming up\n{"samples_per_s": 12.5, "peak_rss_kb": 100}\n')).toMatchObject({
      samples_per_s: 12.5,
    });
  });

  it('names the side and the problem when the report is missing or incomplete', () => {
    expect(() => parseReport('torch', 'Traceback...')).toThrow(/side 'torch' did not print a JSON report/);
    expect(() => parseReport('torch', '{"samples_per_s": 0, "peak_rss_kb": 1}')).toThrow(/'samples_per_s'/);
    expect(() => parseReport('torch', '{"samples_per_s": 3}')).toThrow(/'peak_rss_kb'/);
  });
});

describe('batch file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batch-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back the seeded batches it wrote, batch by batch', () => {
    writeBatchFile(dir, { steps: 3, batch: 4, inputShape: [2, 3], classes: 5, seed: 9 });
    const sut = readBatchFile(dir);
    expect(sut.x).toHaveLength(3 * 4 * 6);
    expect(sut.x.every((v) => v >= 0 && v < 1)).toBe(true);
    expect([...sut.y].every((v) => v >= 0n && v < 5n)).toBe(true);
    expect(Array.from(batchAt(sut, 2).x)).toEqual(Array.from(sut.x.subarray(48, 72)));
    writeBatchFile(`${dir}/again`, { steps: 3, batch: 4, inputShape: [2, 3], classes: 5, seed: 9 });
    expect(Array.from(readBatchFile(`${dir}/again`).x)).toEqual(Array.from(sut.x));
  });

  it('refuses files that do not match their meta, and bad sizes', () => {
    writeBatchFile(dir, { steps: 2, batch: 2, inputShape: [3], classes: 2, seed: 1 });
    writeFileSync(`${dir}/y.i64`, new Uint8Array(8));
    expect(() => readBatchFile(dir)).toThrow(/do not match meta\.json/);
    expect(() => writeBatchFile(dir, { steps: 0, batch: 2, inputShape: [3], classes: 2, seed: 1 })).toThrow(
      "'steps' must be an integer >= 1",
    );
  });
});

describe(firstPassComparison.name, () => {
  it('compares the first untimed pass of each side when both report it, and is absent otherwise', () => {
    const first: Record<string, number[]> = { engine: [60, 66, 63], torch: [30, 33, 31] };
    const r = runInterleaved(side('engine'), side('torch'), {
      pairs: 3,
      maxSpread: 0.25,
      run: (s) => ({
        samples_per_s: 100,
        peak_rss_kb: 1,
        first_pass_samples_per_s: first[s.name]!.shift()!,
      }),
    });
    expect(firstPassComparison(r)?.ratioOfMedians).toBeCloseTo(63 / 31, 12);
    expect(resultJson(r)).toMatchObject({ first_pass_medians: [63, 31], first_pass_ratio_of_medians: 2.03 });
    expect(resultJson(plainRun())).not.toHaveProperty('first_pass_ratio_of_medians');
  });
});

describe('page faults per step', () => {
  it('gives each side the median of what its processes report, and nothing when they do not', () => {
    const faults: Record<string, number[]> = { engine: [2, 40, 3], torch: [300, 310, 290] };
    const r = runInterleaved(side('engine'), side('torch'), {
      pairs: 3,
      maxSpread: 1,
      run: (s) => ({ samples_per_s: 100, peak_rss_kb: 1, page_faults_per_step: faults[s.name]!.shift()! }),
    });
    expect(resultJson(r)).toMatchObject({
      engine: { page_faults_per_step: 3 },
      torch: { page_faults_per_step: 300 },
    });
    expect(resultJson(plainRun())['a']).not.toHaveProperty('page_faults_per_step');
  });
});

describe('allocator setting', () => {
  // Two 800 KiB arrays per round, the previous round's dropped and collected: the pattern of a
  // training run's state outputs.
  const pattern = `let keep = []; const f0 = process.resourceUsage().minorPageFault;
    for (let r = 0; r < 100; r += 1) { keep = [new Float32Array(200704).fill(r), new Float32Array(200704).fill(r)]; gc(); }
    console.log((process.resourceUsage().minorPageFault - f0) / 100, keep.length);`;
  const faultsPerRound = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', pattern], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    return Number(r.stdout.trim().split(' ')[0]);
  };

  it('is a setting glibc accepts, with the values it states', () => {
    const r = spawnSync('/lib64/ld-linux-x86-64.so.2', ['--list-tunables'], {
      env: { ...process.env, ...mallocEnv('retain') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/glibc\.malloc\.mmap_threshold: 0x2000000 /);
    expect(r.stdout).toMatch(/glibc\.malloc\.trim_threshold: 0x40000000 /);
    expect(mallocEnv('retain')).toEqual({ GLIBC_TUNABLES: RETAIN_TUNABLES });
    expect(mallocEnv('release')).toEqual({ GLIBC_TUNABLES: '' });
  });

  it('keeps freed memory: far fewer page faults for the same allocations than glibc as shipped', () => {
    const released = faultsPerRound(mallocEnv('release'));
    const retained = faultsPerRound(mallocEnv('retain'));
    expect(released).toBeGreaterThan(3 * retained);
  });

  it('measures a positive cost per page fault over the faults it caused', () => {
    const c = measurePageFaultCost(2);
    expect(c.faults).toBeGreaterThan(10_000); // 2 x 64 MiB of fresh pages
    expect(c.us_per_fault).toBeGreaterThan(0);
  });
});
