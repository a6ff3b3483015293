// One round with many real site sessions over gRPC and TLS (issue 15, "Load"): a real
// coordinator process (`fedistill coordinator start`, started as the e2e tests start it) and N
// sites, each a lightweight in-process client speaking the real wire protocol: the node's own
// egress path (signed requests, TLS, its egress log in memory) and its RoundParticipant (the
// real SecAgg+ site state machine, k neighbours, every check a node makes), fed with integer
// summaries chosen here (the node's teachers are not involved). Each site enrols with its own
// token and keys, holds a heartbeat and an event stream, and plays the round; the exact sum of
// the inputs is checked against the coordinator's stored result.
// Reports wall time per stage (as the coordinator's admin API shows the round's stage moving),
// the coordinator process's peak RSS (VmHWM) and CPU (utime + stime from /proc/<pid>/stat), and
// the CPU of this process (all N clients), and the size of the round's stored record.
// A site asks again while a stage is open, the coordinator is away or a call passed its 15 s
// deadline (apps/node/src/round-poll.ts); a site whose call fails otherwise drops out, as a node
// would; the round goes on within the federation's dropout tolerance, and the failures are
// counted by their error.
// Usage: npm run bench -- load-wire [--sites 200] [--k 16] [--queries 5] [--tolerance 20]
//        [--deadline 300] (seconds per stage; a stage waits this long for a site that dropped)
import * as fs from 'node:fs';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import { decodeSigned, decodeState } from '@fedistill/secagg';
import { float32Npy } from '../test/e2e/support/npy';
import {
  admin,
  cli,
  type CoordinatorFixture,
  inBatches,
  startCoordinatorProcess,
  uploadReferenceSet,
  waitFor,
} from '../test/e2e/support/processes';
import { WireSite } from '../test/e2e/support/wire-site';

const args = process.argv.slice(2);
function int(name: string, fallback: number, min: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`'--${name}' must be an integer >= ${min}`);
  return n;
}
const SITES = int('sites', 200, 4);
const K = int('k', 16, 2);
const QUERIES = int('queries', 5, 1);
const TOLERANCE = int('tolerance', 20, 0);
const DEADLINE_S = int('deadline', 300, 10);
if (TOLERANCE >= SITES) throw new RangeError("'--tolerance' must be smaller than '--sites'");
const LENGTH = QUERIES * 3;
const CLK_TCK = 100; // Linux USER_HZ, what /proc/<pid>/stat counts in

/** The coordinator process's CPU seconds so far and its peak RSS in MB. */
function coordinatorUsage(pid: number): { cpu_s: number; peak_rss_mb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") "; utime and stime are
  // fields 14 and 15 of the whole line.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu_s: Math.round(cpu * 100) / 100, peak_rss_mb: Math.round(Number(hwm?.[1] ?? 0) / 1024) };
}

const secondsSince = (t: number) => Math.round((Date.now() - t) / 10) / 100;
const selfCpu = () => {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1e4) / 100;
};

async function federation(fx: CoordinatorFixture, sites: readonly WireSite[]): Promise<string> {
  const sha256 = await uploadReferenceSet(
    fx,
    float32Npy(
      [40, 4],
      Float32Array.from({ length: 160 }, (_v, i) => i / 10),
    ),
  );
  // A stage closes as soon as every site answered; the deadline bounds the wait for dropouts.
  const deadline = `${DEADLINE_S}s`;
  const created = await admin(fx, 'POST', '/api/v1/federations', {
    id: 'load',
    labels: ['a', 'b', 'c'],
    input: { shape: [4] },
    referenceSet: { sha256 },
    student: { architecture: 'mlp', hidden: [8] },
    privacy: { mechanism: 'skellam', noiseMultiplier: 2, epsilonCap: 8 },
    secureAggregation: { dropoutTolerance: TOLERANCE, neighbours: K },
    rounds: {
      minSites: SITES,
      queriesPerRound: QUERIES,
      deadlines: { advertiseKeys: deadline, shareKeys: deadline, maskedInput: deadline, unmask: deadline },
    },
  });
  if (created.status !== 201) throw new Error(`federation refused: ${JSON.stringify(created.body)}`);
  await inBatches(sites, 20, async (s) => {
    const added = await admin(fx, 'POST', '/api/v1/federations/load/sites', { site: s.name });
    if (added.status >= 300) throw new Error(`adding ${s.name}: ${JSON.stringify(added.body)}`);
  });
  return 'load';
}

interface RoundView {
  status: string;
  inputsFrom: string[];
  stage: string;
  reason: string | null;
}

/** The coordinator's stored result of round 1 (decoded), as the rounds e2e test reads it. */
function storedResult(dbFile: string): { sum: Int32Array | null; bytes: number } {
  const db = new Database(dbFile, { readonly: true });
  try {
    const row = db.prepare("SELECT engine FROM rounds WHERE federation_id = 'load' AND round = 1").get() as {
      engine: string;
    };
    const state = decodeState<{ coordinator: { result: Uint32Array | null } }>(row.engine).coordinator;
    return { sum: state.result && decodeSigned(state.result, 32), bytes: Buffer.byteLength(row.engine) };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const t0 = Date.now();
  const phases: Record<string, number> = {};
  const fx = await startCoordinatorProcess({ heartbeatInterval: '5s', offlineAfter: '120s' });
  const sites: WireSite[] = [];
  let watching = true;
  try {
    phases.coordinator_start = secondsSince(t0);
    const pid = fx.process.pid as number;
    let t = Date.now();
    const names = Array.from({ length: SITES }, (_, i) => `site-${String(i + 1).padStart(3, '0')}`);
    await inBatches(names, 20, async (name) => {
      const site = await WireSite.enrol(fx, name);
      await site.connect(5000);
      sites.push(site);
    });
    sites.sort((a, b) => a.name.localeCompare(b.name));
    phases.enrol_and_connect = secondsSince(t);
    console.error(`${SITES} sites enrolled and connected in ${phases.enrol_and_connect} s`);
    t = Date.now();
    const id = await federation(fx, sites);
    phases.federation = secondsSince(t);
    const before = coordinatorUsage(pid);
    const clientCpuBefore = selfCpu();
    const started = Date.now();
    // Stage times as the coordinator reports them: when the admin API first shows each stage.
    const seen: Record<string, number> = {};
    let view: RoundView | undefined;
    const watcher = (async () => {
      let failures = 0;
      while (watching) {
        await new Promise((r) => setTimeout(r, 250));
        let rounds: RoundView[];
        try {
          rounds = (await admin<{ rounds: RoundView[] }>(fx, 'GET', `/api/v1/federations/${id}/rounds`)).body
            .rounds;
          failures = 0;
        } catch (err) {
          // A kept-alive socket the server closed as the request went out: ask again.
          if (++failures > 20) throw err;
          continue;
        }
        view = rounds[0];
        // Before the round exists there is nothing to see; its first stage is seen at once.
        if (view && seen[view.stage] === undefined) seen[view.stage] = Date.now();
      }
    })().catch((err: unknown) => {
      // After a failure elsewhere the coordinator is stopped under the watcher: not its error.
      if (watching) throw err;
    });
    const out = await cli([
      'coordinator',
      'round',
      'start',
      '--federation',
      id,
      '--json',
      '--config',
      fx.configFile,
    ]);
    if (out.code !== 0) throw new Error(`round start failed: ${out.stderr}`);
    const announced = await Promise.all(sites.map((s) => s.announcement(300_000)));
    console.error(`round announced to ${SITES} sites after ${secondsSince(started)} s`);
    const values = (i: number) =>
      Int32Array.from({ length: LENGTH }, (_v, j) => ((i * 7919 + j * 104729) % 2001) - 1000);
    const inputs = sites.map((_s, i) => values(i + 1));
    const played = await Promise.allSettled(sites.map((s, i) => s.play(announced[i]!, inputs[i]!)));
    const failures: Record<string, number> = {};
    for (const p of played) {
      if (p.status === 'fulfilled') continue;
      const why = String((p.reason as Error).message ?? p.reason).split(':')[0] as string;
      failures[why] = (failures[why] ?? 0) + 1;
    }
    const final = await waitFor('the round to finish', 6 * DEADLINE_S * 1000, () =>
      view && view.status !== 'open' ? view : undefined,
    );
    watching = false;
    await watcher;
    const roundWall = secondsSince(started);
    const after = coordinatorUsage(pid);
    const clientCpu = Math.round((selfCpu() - clientCpuBefore) * 100) / 100;
    // The exact sum of the inputs the coordinator accepted (every site's, unless some dropped).
    const summed = new Set(final.inputsFrom);
    const expected = Int32Array.from({ length: LENGTH }, (_v, j) =>
      inputs.reduce((s, v, i) => (summed.has(sites[i]!.name) ? s + (v[j] as number) : s), 0),
    );
    const stored = storedResult(fx.dbFile);
    const result = stored.sum;
    const exact = result !== null && result.every((v, j) => v === expected[j]);
    const order = Object.entries(seen).sort((a, b) => a[1] - b[1]);
    const stages: Record<string, number> = {};
    order.forEach(([stage, at], i) => {
      const next = order[i + 1]?.[1] ?? Date.now();
      stages[stage] = Math.round((next - at) / 10) / 100;
    });
    console.log(
      `${SITES} sites, k = ${K}: round ${final.status}${exact ? `, sum of ${summed.size} inputs exact` : ''} in ${roundWall} s (${Object.entries(
        stages,
      )
        .map(([s, v]) => `${s} ${v}`)
        .join(
          ', ',
        )}); coordinator CPU ${Math.round((after.cpu_s - before.cpu_s) * 100) / 100} s in the round ` +
        `(${after.cpu_s} s since start), peak RSS ${after.peak_rss_mb} MB; clients' CPU ${clientCpu} s`,
    );
    console.log(
      JSON.stringify({
        sites: SITES,
        neighbours: K,
        length: LENGTH,
        status: final.status,
        reason: final.reason,
        sum_exact: exact,
        inputs_summed: summed.size,
        site_failures: failures,
        setup_s: phases,
        round_wall_s: roundWall,
        // The round's record as the coordinator last wrote it (it writes it after every message).
        stored_round_bytes: stored.bytes,
        stages_s: stages,
        coordinator: {
          cpu_round_s: Math.round((after.cpu_s - before.cpu_s) * 100) / 100,
          cpu_total_s: after.cpu_s,
          peak_rss_mb: after.peak_rss_mb,
        },
        clients_cpu_round_s: clientCpu,
        load_average_before: loadBefore.map((v) => Math.round(v * 100) / 100),
        load_average_after: loadavg().map((v) => Math.round(v * 100) / 100),
      }),
    );
    if (!exact) process.exitCode = 1;
  } finally {
    watching = false;
    for (const s of sites) s.close();
    await fx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
