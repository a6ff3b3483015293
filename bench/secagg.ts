/**
 * `npm run bench -- secagg [--quick] [--runs N] [--n N,...] [--d D,...] [--no-heap-retention]`: per-site and
 * coordinator cost of one SecAgg+ round (@fedistill/secagg) for n in {10, 50, 100} sites and
 * d in {1e5, 1e6} entries, with 0% and 10% dropout (sites vanish after sharing keys, before
 * sending their masked input, which is the costly case: their keys are rebuilt and their
 * pairwise masks removed), plus the mask PRG's
 * throughput on the masking path against raw AES-128-CTR. n = 10 uses the full mesh (t = 6);
 * n = 50 and 100 use 6 neighbours and t = 4, i.e. 7 shares with the site itself, as Flower's
 * SecAgg+ reference. `--n 10,100` / `--d 1000000` restrict the grid (e.g. to profile one cell).
 * The bench opts in to `enableHeapRetention()` (a process-wide glibc setting that the node and the
 * coordinator leave off, see libs/secagg/src/prg.ts); `--no-heap-retention` measures without it,
 * as the node and the coordinator run.
 * Last line: one JSON object with `cells`, `prg_bytes_per_s` (masking path), `aes_ctr_bytes_per_s`,
 * `prg_expand_bytes_per_s` and the medians.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { quantize } from '@fedistill/dp';
import {
  type SecAggConfig,
  SecAggCoordinator,
  SecAggSite,
  applyMasks,
  deriveMaskKey,
  enableHeapRetention,
  expandMaskInto,
  makeIdentities,
  neighbourGraph,
  seededRandom,
} from '@fedistill/secagg';

interface Cell {
  n: number;
  d: number;
  dropout: number;
  site_s: number;
  server_s: number;
  site_cpu_s: number;
  server_cpu_s: number;
  /** The fastest of the runs (the least disturbed by other tenants), next to the medians. */
  site_best_s: number;
  server_best_s: number;
  /** Minor page faults of the whole process during one round (median): fresh memory is costly on a VM. */
  page_faults: number;
  site_steps_s: Record<string, number>;
  server_steps_s: Record<string, number>;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const runsArg = args.indexOf('--runs');
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;
// `--n 10,100` and `--d 1000000` restrict the grid (for profiling one cell); default: all cells.
function listArg(name: string): number[] | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const values = String(args[at + 1])
    .split(',')
    .map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 2))
    throw new Error(`${name} takes integers >= 2, comma-separated`);
  return values;
}
const heapRetention = !args.includes('--no-heap-retention');
const nOnly = listArg('--n');
const dOnly = listArg('--d');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function configFor(n: number, d: number, round: number): SecAggConfig {
  const mesh = n <= 10;
  return {
    roundId: `bench-${n}-${d}-${round}`,
    siteIds: Array.from({ length: n }, (_, i) => i + 1),
    threshold: mesh ? 6 : 4,
    neighbours: mesh ? 'all' : 6,
    bits: 32,
    maxInput: 2 ** 20,
    length: d,
  };
}

// Picks ~10% of the sites to drop such that every secret keeps >= t holders (else the round is
// abandoned by design and there is nothing to time); deterministic for a given configuration.
function chooseDropouts(c: SecAggConfig, fraction: number, graphSeed: Uint8Array): Set<number> {
  const graph = neighbourGraph(c, graphSeed);
  const count = Math.round(c.siteIds.length * fraction);
  for (let seed = 1; ; seed++) {
    const bytes = seededRandom(seed).fill(new Uint8Array(c.siteIds.length * 4));
    const order = [...c.siteIds].sort((a, b) => (bytes[a - 1] as number) - (bytes[b - 1] as number) || a - b);
    const dropped = new Set(order.slice(0, count));
    const ok = c.siteIds.every((id) => graph.get(id)!.filter((w) => !dropped.has(w)).length >= c.threshold);
    if (ok) return dropped;
  }
}

function timeRound(
  n: number,
  d: number,
  dropout: number,
  round: number,
  soft: Float64Array,
): Omit<Cell, 'n' | 'd' | 'dropout' | 'site_best_s' | 'server_best_s'> {
  const c = configFor(n, d, round);
  const ids = makeIdentities(c.siteIds);
  const identityKeys = new Map([...ids].map(([id, kp]) => [id, kp.publicKey]));
  const scratch = new Int32Array(d);
  const wall = {
    site: { keys: 0, shares: 0, quantize: 0, mask: 0, consistency: 0, unmask: 0 } as Record<string, number>,
    server: { keys: 0, route: 0, sum: 0, consistency: 0, unmask: 0 } as Record<string, number>,
  };
  const cpu = { site: { ...wall.site }, server: { ...wall.server } };
  // Wall-clock seconds (what the targets compare) and CPU seconds of this process (user + system,
  // all threads), which leave out the time spent waiting for a core on a shared machine.
  const timed = <T>(side: 'site' | 'server', step: string, f: () => T): T => {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const out = f();
    wall[side][step]! += (performance.now() - w0) / 1000;
    const dc = process.cpuUsage(c0);
    cpu[side][step]! += (dc.user + dc.system) / 1e6;
    return out;
  };
  const faults0 = process.resourceUsage().minorPageFault;
  const coordinator = timed('server', 'keys', () => SecAggCoordinator.create({ config: c, identityKeys }));
  const sites = c.siteIds.map((siteId) => {
    const sut = SecAggSite.create({
      config: c,
      siteId,
      identitySecretKey: ids.get(siteId)!.secretKey,
      identityKeys,
    });
    const advert = timed('site', 'keys', () => sut.advertiseKeys());
    timed('server', 'keys', () => coordinator.receiveKeys(advert));
    return sut;
  });
  const roster = timed('server', 'keys', () => coordinator.closeKeys()!);
  // The graph (and so which drops keep every secret rebuildable) follows from the roster.
  const dropped = chooseDropouts(c, dropout, coordinator.state.graphSeed!);
  for (const sut of sites) {
    // Each site works on its own copy, as if decoded from the wire: nothing (e.g. imported keys,
    // cached per byte array) is shared between the simulated sites of this one process.
    const own = structuredClone(roster);
    const shares = timed('site', 'shares', () => sut.shareKeys(own));
    timed('server', 'route', () => coordinator.receiveShares(sut.state.siteId, shares));
  }
  const deliveries = timed('server', 'route', () => coordinator.closeShares()!);
  for (const delivery of deliveries) {
    if (dropped.has(delivery.to)) continue;
    // A site reuses its round buffer (steady state); see docs/benchmarks.md for the cold cost.
    const q = timed('site', 'quantize', () =>
      quantize(soft, { clip: 1, granularity: 1e-4 }, undefined, scratch),
    );
    const input = new Uint32Array(q.buffer, q.byteOffset, q.length); // non-negative: same bits
    const masked = timed('site', 'mask', () =>
      sites[delivery.to - 1]!.maskInput(delivery, input, { inPlace: true }),
    );
    timed('server', 'sum', () => coordinator.receiveMaskedInput(masked));
  }
  // Consistency round (Bonawitz et al. CCS 2017, Fig. 4, round 3): each survivor signs the
  // survivor set, the coordinator verifies every signature; the site verifies the quorum of
  // signatures (and its surviving neighbours' signatures over U2) inside its 'unmask' step.
  const sets = timed('server', 'consistency', () => coordinator.closeInputs()!);
  for (const set of sets) {
    const sig = timed('site', 'consistency', () => sites[set.to - 1]!.signSurvivors(set));
    timed('server', 'consistency', () => coordinator.receiveSurvivorSignature(sig));
  }
  const requests = timed('server', 'consistency', () => coordinator.closeConsistency()!);
  for (const r of requests) {
    const resp = timed('site', 'unmask', () => sites[r.to - 1]!.unmask(r));
    timed('server', 'unmask', () => coordinator.receiveUnmask(resp));
  }
  const outcome = timed('server', 'unmask', () => coordinator.finish());
  if (outcome.status !== 'done') throw new Error(`round abandoned: ${outcome.reason}`);
  const survivors = n - dropped.size;
  // Per-site cost: keys and shares are paid by all n sites, the rest by the survivors.
  const perSite = (x: Record<string, number>): Record<string, number> => ({
    keys: x.keys! / n,
    shares: x.shares! / n,
    quantize: x.quantize! / survivors,
    mask: x.mask! / survivors,
    consistency: x.consistency! / survivors,
    unmask: x.unmask! / survivors,
  });
  const total = (x: Record<string, number>): number => Object.values(x).reduce((a, b) => a + b, 0);
  const siteSteps = perSite(wall.site);
  return {
    site_s: total(siteSteps),
    server_s: total(wall.server),
    site_cpu_s: total(perSite(cpu.site)),
    server_cpu_s: total(cpu.server),
    page_faults: process.resourceUsage().minorPageFault - faults0,
    site_steps_s: siteSteps,
    server_steps_s: wall.server,
  };
}

function measureCell(n: number, d: number, dropout: number): Cell {
  const soft = Float64Array.from({ length: d }, (_, i) => ((i * 2654435761) % 1000) / 1000 / Math.sqrt(d));
  const results = Array.from({ length: runs }, (_, r) => timeRound(n, d, dropout, r, soft));
  const med = (pick: (x: (typeof results)[number]) => number): number => median(results.map(pick));
  const stepMedians = (key: 'site_steps_s' | 'server_steps_s'): Record<string, number> =>
    Object.fromEntries(Object.keys(results[0]![key]).map((k) => [k, med((x) => x[key][k]!)]));
  return {
    n,
    d,
    dropout,
    site_s: med((x) => x.site_s),
    server_s: med((x) => x.server_s),
    site_cpu_s: med((x) => x.site_cpu_s),
    server_cpu_s: med((x) => x.server_cpu_s),
    site_best_s: Math.min(...results.map((x) => x.site_s)),
    server_best_s: Math.min(...results.map((x) => x.server_s)),
    page_faults: med((x) => x.page_faults),
    site_steps_s: stepMedians('site_steps_s'),
    server_steps_s: stepMedians('server_steps_s'),
  };
}

// PRG throughput on the masking path itself, against raw AES-128-CTR in the same process, over
// the same sizes: S = 10 streams (what one full-mesh site at n = 10 expands: its self mask and 9
// pairwise masks) of d = 10^6 words (4 MB) each.
//  - `mask`: `applyMasks` of the 10 streams into a d-word vector, the exact call `maskInput`
//    makes: keystream generated in 64 KiB chunks and added or subtracted into the vector.
//  - `expand`: `expandMaskInto`, one stream's keystream written into a d-word vector (no add).
//  - `aes`: the raw keystream of the same 10 streams from `createCipheriv('aes-128-ctr')`, in the
//    same 64 KiB chunks, each chunk read once so it is really produced (nothing else done).
// Interleaved run by run so all three see the same load on this shared machine; 15 runs, and
// both the fastest run (the intrinsic cost) and the median (cost under the current load) count.
interface Rate {
  best: number;
  median: number;
}
function prgThroughput(): { mask: Rate; expand: Rate; aes: Rate } {
  const words = 1_000_000;
  const streams = 10;
  const chunk = Buffer.alloc(64 * 1024);
  const target = new Uint32Array(words); // allocated once: page faults are not the PRG's cost
  const seconds = (f: () => void): number => {
    const s = performance.now();
    f();
    return (performance.now() - s) / 1000;
  };
  const times = { mask: [] as number[], expand: [] as number[], aes: [] as number[] };
  for (let r = 0; r < 15; r++) {
    const keys = Array.from({ length: streams }, (_, i) =>
      deriveMaskKey(randomBytes(32), 'pair', 'bench', [r, i]),
    );
    times.mask.push(
      seconds(() =>
        applyMasks(
          target,
          keys.map((key, i) => ({ key, sign: i % 2 ? -1 : 1 })),
        ),
      ),
    );
    times.expand.push(seconds(() => keys.forEach((key) => expandMaskInto(target, key))));
    times.aes.push(
      seconds(() => {
        let sink = 0;
        const ciphers = keys.map((key) => createCipheriv('aes-128-ctr', key, Buffer.alloc(16)));
        for (let done = 0; done < words * 4; done += chunk.length) {
          for (const cipher of ciphers) sink ^= cipher.update(chunk).readUInt32LE(0);
        }
        if (sink === 0.5) throw new Error('unreachable');
      }),
    );
  }
  const rate = (xs: number[]): Rate => ({
    best: (streams * words * 4) / Math.min(...xs),
    median: (streams * words * 4) / median(xs),
  });
  return { mask: rate(times.mask), expand: rate(times.expand), aes: rate(times.aes) };
}

function main(): void {
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  // Opt-in here only: the node and the coordinator never call it (issue 11, finding 8).
  if (heapRetention) enableHeapRetention();
  console.log(
    `secagg benchmark: runs=${runs}${quick ? ' (quick)' : ''}, heap retention ${heapRetention ? 'on' : 'off'}, load average ${load}`,
  );
  const prg = prgThroughput();
  measureCell(10, 10_000, 0.1); // warm-up: let the JIT compile the hot loops before timing
  const gbs = (x: number): string => `${(x / 1e9).toFixed(2)} GB/s`;
  const line = (name: string, r: Rate): string =>
    `${name} ${gbs(r.best)} best (raw AES-CTR / it = ${(prg.aes.best / r.best).toFixed(2)}x), ` +
    `${gbs(r.median)} median (${(prg.aes.median / r.median).toFixed(2)}x)`;
  console.log(
    `PRG over 10 streams of 4 MB, 15 interleaved runs: raw AES-128-CTR ${gbs(prg.aes.best)} best, ` +
      `${gbs(prg.aes.median)} median; ${line('masking path (applyMasks: keystream + add)', prg.mask)}; ` +
      `${line('keystream into a vector (expandMaskInto)', prg.expand)}`,
  );
  const ns = nOnly ?? (quick ? [10, 100] : [10, 50, 100]);
  const ds = dOnly ?? (quick ? [100_000] : [100_000, 1_000_000]);
  const cells: Cell[] = [];
  for (const d of ds) {
    for (const n of ns) {
      for (const dropout of [0, 0.1]) {
        const cell = measureCell(n, d, dropout);
        cells.push(cell);
        const steps = (r: Record<string, number>): string =>
          Object.entries(r)
            .map(([k, v]) => `${k} ${(v * 1000).toFixed(1)}`)
            .join(', ');
        console.log(
          `n=${n} d=${d} dropout=${dropout * 100}%: site ${(cell.site_s * 1000).toFixed(1)} ms (${steps(cell.site_steps_s)}; ` +
            `CPU ${(cell.site_cpu_s * 1000).toFixed(1)}; best ${(cell.site_best_s * 1000).toFixed(1)}); server ${(cell.server_s * 1000).toFixed(1)} ms ` +
            `(${steps(cell.server_steps_s)}; CPU ${(cell.server_cpu_s * 1000).toFixed(1)}; ` +
            `best ${(cell.server_best_s * 1000).toFixed(1)}); ` +
            `${cell.page_faults} page faults per round`,
        );
      }
    }
  }
  console.log(`command: npm run bench -- secagg${args.length > 0 ? ` ${args.join(' ')}` : ''}`);
  console.log(
    JSON.stringify({
      runs,
      heap_retention: heapRetention,
      load_average: load,
      cells,
      // The masking path (keystream + add), i.e. what a site pays per mask byte; best of 15.
      prg_bytes_per_s: prg.mask.best,
      aes_ctr_bytes_per_s: prg.aes.best,
      prg_expand_bytes_per_s: prg.expand.best,
      median_bytes_per_s: { prg: prg.mask.median, aes_ctr: prg.aes.median, prg_expand: prg.expand.median },
    }),
  );
}

main();
