/**
 * `npm run bench -- secagg [--quick] [--runs N]`: per-site and coordinator cost of one SecAgg+
 * round (@fedistill/secagg) for n in {10, 50, 100} sites and d in {1e5, 1e6} entries, with 0%
 * and 10% dropout (sites vanish after sharing keys, before sending their masked input, which is
 * the costly case: their keys are rebuilt and their pairwise masks removed), plus the mask PRG's
 * throughput (alone, and with the masking add) against raw AES-128-CTR. n = 10 uses the full mesh (t = 6); n = 50 and 100 use 6
 * neighbours and t = 4, i.e. 7 shares with the site itself, as Flower's SecAgg+ reference.
 * Last line: one JSON object with `cells`, `prg_bytes_per_s`, `prg_with_mask_add_bytes_per_s`,
 * `aes_ctr_bytes_per_s`.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { quantize } from '@fedistill/dp';
import {
  type SecAggConfig,
  SecAggCoordinator,
  SecAggSite,
  applyMask,
  deriveMaskKey,
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
  site_steps_s: Record<string, number>;
  server_steps_s: Record<string, number>;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const runsArg = args.indexOf('--runs');
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;

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
    graphSeed: randomBytes(32),
  };
}

// Picks ~10% of the sites to drop such that every secret keeps >= t holders (else the round is
// abandoned by design and there is nothing to time); deterministic for a given configuration.
function chooseDropouts(c: SecAggConfig, fraction: number): Set<number> {
  const graph = neighbourGraph(c);
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
): Omit<Cell, 'n' | 'd' | 'dropout'> {
  const c = configFor(n, d, round);
  const ids = makeIdentities(c.siteIds);
  const identityKeys = new Map([...ids].map(([id, kp]) => [id, kp.publicKey]));
  const dropped = chooseDropouts(c, dropout);
  const scratch = new Int32Array(d);
  const site = { keys: 0, shares: 0, quantize: 0, mask: 0, unmask: 0 };
  const server = { keys: 0, route: 0, sum: 0, unmask: 0 };
  const t = (): number => performance.now() / 1000;
  let s0 = t();
  const coordinator = SecAggCoordinator.create({ config: c, identityKeys });
  server.keys += t() - s0;
  const sites = c.siteIds.map((siteId) => {
    s0 = t();
    const sut = SecAggSite.create({
      config: c,
      siteId,
      identitySecretKey: ids.get(siteId)!.secretKey,
      identityKeys,
    });
    const advert = sut.advertiseKeys();
    site.keys += t() - s0;
    s0 = t();
    coordinator.receiveKeys(advert);
    server.keys += t() - s0;
    return sut;
  });
  s0 = t();
  const roster = coordinator.closeKeys()!;
  server.keys += t() - s0;
  for (const sut of sites) {
    s0 = t();
    const shares = sut.shareKeys(roster);
    site.shares += t() - s0;
    s0 = t();
    coordinator.receiveShares(sut.state.siteId, shares);
    server.route += t() - s0;
  }
  s0 = t();
  const deliveries = coordinator.closeShares()!;
  server.route += t() - s0;
  for (const delivery of deliveries) {
    if (dropped.has(delivery.to)) continue;
    s0 = t();
    // A site reuses its round buffer (steady state); see docs/benchmarks.md for the cold cost.
    const q = quantize(soft, { clip: 1, granularity: 1e-4 }, undefined, scratch);
    const input = new Uint32Array(q.buffer, q.byteOffset, q.length); // non-negative: same bits
    site.quantize += t() - s0;
    s0 = t();
    const masked = sites[delivery.to - 1]!.maskInput(delivery, input, { inPlace: true });
    site.mask += t() - s0;
    s0 = t();
    coordinator.receiveMaskedInput(masked);
    server.sum += t() - s0;
  }
  s0 = t();
  const requests = coordinator.closeInputs()!;
  server.unmask += t() - s0;
  for (const r of requests) {
    s0 = t();
    const resp = sites[r.to - 1]!.unmask(r);
    site.unmask += t() - s0;
    s0 = t();
    coordinator.receiveUnmask(resp);
    server.unmask += t() - s0;
  }
  s0 = t();
  const outcome = coordinator.finish();
  server.unmask += t() - s0;
  if (outcome.status !== 'done') throw new Error(`round abandoned: ${outcome.reason}`);
  const survivors = n - dropped.size;
  // Per-site cost: keys and shares are paid by all n sites, the rest by the survivors.
  const siteSteps = {
    keys: site.keys / n,
    shares: site.shares / n,
    quantize: site.quantize / survivors,
    mask: site.mask / survivors,
    unmask: site.unmask / survivors,
  };
  const site_s = Object.values(siteSteps).reduce((a, b) => a + b, 0);
  const server_s = Object.values(server).reduce((a, b) => a + b, 0);
  return { site_s, server_s, site_steps_s: siteSteps, server_steps_s: server };
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
    site_steps_s: stepMedians('site_steps_s'),
    server_steps_s: stepMedians('server_steps_s'),
  };
}

// The PRG alone (keystream written as words into a preallocated vector), the PRG plus the
// masking add (what masking costs per stream), and the raw AES-128-CTR keystream, interleaved run
// by run so all see the same load on this shared machine: 15 runs of 16 MB each, and the fastest
// run of each counts (on a contended 2-core VM, medians mostly measure the other tenants).
function prgThroughput(): { prg: number; mask: number; aes: number } {
  const words = 4_000_000;
  const key = deriveMaskKey(randomBytes(32), 'pair', 'bench', [1, 2]);
  const zero = Buffer.alloc(64 * 1024);
  const target = new Uint32Array(words); // allocated once: page faults are not the PRG's cost
  const seconds = (f: () => void): number => {
    const s = performance.now();
    f();
    return (performance.now() - s) / 1000;
  };
  const times = { prg: [] as number[], mask: [] as number[], aes: [] as number[] };
  for (let r = 0; r < 15; r++) {
    times.prg.push(seconds(() => expandMaskInto(target, key)));
    times.mask.push(seconds(() => applyMask(target, key, 1)));
    times.aes.push(
      seconds(() => {
        // Raw keystream in the same 64 KiB chunks, read once per chunk so it is really produced
        // and consumed (an untouched output ran several times slower here, an artefact of GC).
        const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
        let sink = 0;
        for (let done = 0; done < words * 4; done += zero.length) sink ^= cipher.update(zero).readUInt32LE(0);
        if (sink === 0.5) throw new Error('unreachable');
      }),
    );
  }
  const rate = (xs: number[]): number => (words * 4) / Math.min(...xs);
  return { prg: rate(times.prg), mask: rate(times.mask), aes: rate(times.aes) };
}

function main(): void {
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(`secagg benchmark: runs=${runs}${quick ? ' (quick)' : ''}, load average ${load}`);
  const { prg, mask, aes } = prgThroughput();
  measureCell(10, 10_000, 0.1); // warm-up: let the JIT compile the hot loops before timing
  const gbs = (x: number): string => `${(x / 1e9).toFixed(2)} GB/s`;
  console.log(
    `PRG (AES-128-CTR keystream as words, best of 15): ${gbs(prg)}; raw AES-128-CTR: ${gbs(aes)} ` +
      `(ratio ${(aes / prg).toFixed(2)}x); PRG + masking add: ${gbs(mask)} (ratio ${(aes / mask).toFixed(2)}x)`,
  );
  const ns = quick ? [10, 100] : [10, 50, 100];
  const ds = quick ? [100_000] : [100_000, 1_000_000];
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
          `n=${n} d=${d} dropout=${dropout * 100}%: site ${(cell.site_s * 1000).toFixed(1)} ms (${steps(cell.site_steps_s)}); ` +
            `server ${(cell.server_s * 1000).toFixed(1)} ms (${steps(cell.server_steps_s)})`,
        );
      }
    }
  }
  console.log(
    `command: npm run bench -- secagg${quick ? ' --quick' : ''}${runsArg >= 0 ? ` --runs ${runs}` : ''}`,
  );
  console.log(
    JSON.stringify({
      runs,
      load_average: load,
      cells,
      prg_bytes_per_s: prg,
      prg_with_mask_add_bytes_per_s: mask,
      aes_ctr_bytes_per_s: aes,
    }),
  );
}

main();
