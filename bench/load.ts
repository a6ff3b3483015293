// Secure aggregation at scale (issue 15): one round of the real SecAgg+ state machines (every
// site's and the coordinator's, libs/secagg) in one process, d = 1,000 entries, k neighbours per
// site, a few dropouts; each configuration in a fresh child process, so that its peak RSS is its
// own. Reports wall time per stage, CPU and peak RSS.
// Usage: npm run bench -- load [--sites 100,255,1000] [--k 16] [--length 1000]
//        [--full-mesh 255] (adds a full-mesh round of that many sites; at most 256)
//        [--shared-checks] (the sites share one signature memo, see below)
//        npm run bench -- load --ten-thousand (n = 10,000, k = 16, shared checks)
// What it does not measure: the wire (gRPC, TLS) and the round engine around the state machines
// (bench/load-wire.ts does, with 200 sites).
// Every site verifies every site's key advertisement and a quorum of more than n/2 consistency
// signatures (O(n) per site, as it must), so one process hosting all n sites repeats n^2
// Ed25519 verifications. With --shared-checks the sites share one memo
// (libs/secagg/src/signature-checks.ts): each site still checks every advert and signature, and
// identical (key, message, signature) triples are verified once per process.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { type SecAggConfig, sharedSignatureChecks, simulateRound } from '@fedistill/secagg';

const args = process.argv.slice(2);
function value(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new RangeError(`'--${name}' needs a value`);
  return v;
}
const ints = (name: string, fallback: string): number[] =>
  (value(name) ?? fallback).split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 2) throw new RangeError(`'--${name}': '${s}' is not an integer >= 2`);
    return n;
  });

interface One {
  sites: number;
  neighbours: number | 'all';
  length: number;
  dropped: number;
  status: string;
  signature_checks: 'per site' | 'shared';
  stages_s: Record<string, number>;
  stage_cpu_s: Record<string, number>;
  total_s: number;
  cpu_s: number;
  peak_rss_mb: number;
}

/** One round in this process (the child's job). */
function runOne(n: number, k: number | 'all', length: number, shared: boolean): One {
  const siteIds = Array.from({ length: n }, (_, i) => i + 1);
  const degree = k === 'all' ? n - 1 : Math.min(k, n - 1);
  const config: SecAggConfig = {
    roundId: `load-${n}-${k}`,
    siteIds,
    threshold: Math.floor(degree / 2) + 1,
    neighbours: k,
    bits: 32,
    maxInput: 1000,
    length,
  };
  const inputs = new Map(siteIds.map((id) => [id, new Uint32Array(length).fill(id % 1000)]));
  // 1% of the sites drop out, half before their shares and half before their masked input,
  // spread over the id range (a neighbourhood tolerates fewer than k/2 losses).
  const drops = new Map<number, 'shares' | 'input'>();
  const every = Math.max(2, Math.floor(n / Math.max(1, Math.floor(n / 100))));
  for (let id = every; id <= n; id += every) drops.set(id, drops.size % 2 === 0 ? 'shares' : 'input');
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let last = started;
  let lastCpu = cpu0;
  const stages: Record<string, number> = {};
  const stageCpu: Record<string, number> = {};
  const { outcome } = simulateRound(config, inputs, {
    drops,
    signatureChecks: shared ? sharedSignatureChecks() : undefined,
    onStage: (stage) => {
      const now = process.hrtime.bigint();
      const cpuNow = process.cpuUsage();
      stages[stage] = Number(now - last) / 1e9;
      stageCpu[stage] = (cpuNow.user + cpuNow.system - lastCpu.user - lastCpu.system) / 1e6;
      last = now;
      lastCpu = cpuNow;
    },
  });
  const cpu = process.cpuUsage(cpu0);
  if (outcome.status === 'done') {
    const expected = siteIds.filter((id) => !drops.has(id)).reduce((a, id) => a + (id % 1000), 0);
    if (outcome.sum[0] !== expected >>> 0) throw new Error(`wrong sum: ${outcome.sum[0]} != ${expected}`);
  }
  return {
    sites: n,
    neighbours: k,
    length,
    dropped: drops.size,
    status: outcome.status === 'done' ? 'done, sum checked' : `abandoned: ${outcome.reason}`,
    signature_checks: shared ? 'shared' : 'per site',
    stages_s: Object.fromEntries(Object.entries(stages).map(([s, v]) => [s, Math.round(v * 1000) / 1000])),
    stage_cpu_s: Object.fromEntries(Object.entries(stageCpu).map(([s, v]) => [s, Math.round(v * 100) / 100])),
    total_s: Math.round((Number(process.hrtime.bigint() - started) / 1e9) * 1000) / 1000,
    cpu_s: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function main(): void {
  const child = value('one');
  const length = ints('length', '1000')[0]!;
  const tenThousand = args.includes('--ten-thousand');
  const shared = tenThousand || args.includes('--shared-checks');
  if (child !== undefined) {
    const [n, k] = child.split(':');
    console.log(JSON.stringify(runOne(Number(n), k === 'all' ? 'all' : Number(k), length, shared)));
    return;
  }
  const k = ints('k', '16')[0]!;
  const sites = tenThousand ? '10000' : '100,255,1000';
  const plan: Array<[number, number | 'all']> = ints('sites', sites).map((n) => [n, k]);
  const mesh = value('full-mesh');
  if (mesh !== undefined) plan.push([ints('full-mesh', mesh)[0]!, 'all']);
  const loadBefore = loadavg()[0]!;
  const results: One[] = [];
  for (const [n, kk] of plan) {
    // Each of 10,000 sites keeps its roster, sharer and survivor lists: past V8's default heap.
    const childArgs = [
      '--max-old-space-size=12288',
      __filename,
      '--one',
      `${n}:${kk}`,
      '--length',
      String(length),
    ];
    const res = spawnSync(process.execPath, shared ? [...childArgs, '--shared-checks'] : childArgs, {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (res.status !== 0) throw new Error(`n = ${n}, k = ${kk} failed:\n${res.stderr}`);
    const one = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as One;
    results.push(one);
    console.log(
      `n = ${n}, k = ${kk}: ${one.status}; ${one.total_s} s (${Object.entries(one.stages_s)
        .map(([s, v]) => `${s} ${v}`)
        .join(', ')}), ${one.cpu_s} s CPU, peak RSS ${one.peak_rss_mb} MB`,
    );
  }
  console.log(
    JSON.stringify({
      length,
      signature_checks: shared ? 'shared' : 'per site',
      results,
      load_average_before: Math.round(loadBefore * 100) / 100,
      load_average_after: Math.round(loadavg()[0]! * 100) / 100,
    }),
  );
}

main();
