// Over the ~300-line guide: the demo is one script a newcomer reads top to bottom (PKI,
// coordinator, three hospitals, roster approval, rounds, table, audit); its data split lives in
// demo-data.ts. Splitting the remaining steps would scatter a story that is read in order.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { createDevelopmentPki, writeDevelopmentPki } from '@fedistill/pki';
import { RUNTIME_FILE, type RoundView, type RuntimeInfo } from '../../../coordinator/src';
import { readSiteKeyFile } from '@fedistill/identity';
import { enrollNode, initNode, rosterFingerprint, SiteLedger } from '../../../node/src';
import { adminRequest } from '../admin-client';
import { CliError } from '../cli-error';
import {
  type DemoSplit,
  demoBaselines,
  LABEL_COLUMN,
  heldDigits,
  npyInputs,
  npyLabels,
  splitDemoData,
  writeHospitalCsv,
} from './demo-data';
import { consoleAccessText, demoConsoleAccess, untilInterrupted } from './demo-console';

const HOSPITALS = ['st-marys', 'riverside', 'northgate'];
const REPO = path.resolve(__dirname, '..', '..', '..', '..', '..');
const BIN = path.join(REPO, 'bin', 'fedistill.js');

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new CliError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Child processes of the demo, all stopped on success, failure and Ctrl-C. */
class Supervisor {
  private readonly children: ChildProcess[] = [];

  spawn(name: string, args: string[], logFile: string): ChildProcess {
    const log = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal === null)
        process.stderr.write(`  ${name} exited with code ${code}; see ${logFile}\n`);
    });
    this.children.push(child);
    return child;
  }

  /** Stops the processes newest first (nodes before the coordinator, so their last anchors land). */
  async stopAll(): Promise<void> {
    for (const c of [...this.children].reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        c.kill('SIGTERM');
      });
    }
  }
}

/** Verifies every log the demo produced (chains, signatures, anchors) and writes the reports. */
async function auditDemo(out: string): Promise<void> {
  const { verifyLogs, renderVerification } = await import('../audit/verify-logs');
  const { buildAuditReport, renderAuditReport, verifyAuditLog } = await import('@fedistill/audit');
  const { loadLog } = await import('../audit/load-logs');
  const sources = [
    ...HOSPITALS.map((site) => ({ kind: 'node' as const, path: path.join(out, 'sites', site) })),
    { kind: 'coordinator' as const, path: path.join(out, 'coordinator') },
  ];
  const result = await verifyLogs(sources);
  process.stdout.write(`
Audit logs:
${renderVerification(result)}
`);
  const reports = path.join(out, 'reports');
  fs.mkdirSync(reports, { recursive: true });
  for (const source of sources) {
    const log = await loadLog(source);
    const report = buildAuditReport(log.entries, verifyAuditLog(log.entries, log.expectedKey));
    const name = source.kind === 'node' ? path.basename(source.path) : 'coordinator';
    fs.writeFileSync(path.join(reports, `${name}.md`), renderAuditReport(report, 'md'));
    fs.writeFileSync(path.join(reports, `${name}.html`), renderAuditReport(report, 'html'));
  }
  process.stdout.write(`Audit reports (Markdown and HTML): ${reports}
`);
  if (!result.ok) throw new CliError("the demo's audit logs did not verify");
}

/** keepRunning (--keep-running): leave the coordinator and the nodes up after the rounds, until Ctrl-C. */
export async function runDemo(
  outOption: string | undefined,
  options: { keepRunning?: boolean } = {},
): Promise<void> {
  const out = path.resolve(
    outOption ?? path.join('.fedistill-demo', new Date().toISOString().replace(/[:.]/g, '-')),
  );
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0)
    throw new CliError(`--out ${out} is not empty: choose a new folder`);
  fs.mkdirSync(path.join(out, 'logs'), { recursive: true });
  process.stdout.write(`fedistill demo: everything goes to ${out}\n`);
  const supervisor = new Supervisor();
  const onSignal = () => {
    process.stdout.write('\ninterrupted: stopping the demo processes\n');
    void supervisor.stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await federate(out, supervisor);
    if (options.keepRunning) {
      // Ctrl-C now ends the wait, then the processes stop and the logs are audited as usual.
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await untilInterrupted();
    }
  } finally {
    await supervisor.stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await auditDemo(out);
}

const FEDERATION = 'digits';
/**
 * The demo's privacy and learning settings, the best of several tried (README, "Quick start", says
 * what they give): the federation plans its noise for epsilon TARGET_EPSILON per site over its
 * whole life (ROUNDS distillation rounds and one evaluation round), and each hospital's ledger
 * refuses more.
 */
const ROUNDS = 3;
const TARGET_EPSILON = 3;
/**
 * Class sums (privacy.summary 'class-sums', docs/privacy.md "Class sums") on 16 whitened principal
 * components fitted on the public reference set: each round, each hospital releases, per digit,
 * the noised sum of its records' unit-norm features, and the coordinator fits a classifier from
 * the sum with the reference set's second moment. Sums add up whatever digits each hospital
 * holds, which is why the label skew that defeats a hospital alone does not hurt the federation.
 * Measured in README ("Quick start"): 16 components gave 79.9-87.2 % after round 3 (24: 81-83 %,
 * 32 standardized: 75-80 %); teachers' votes, the demo before (160 abstaining teachers per
 * hospital, 20 queries a round), gave 37-54 %.
 */
const FEATURES = { pca: { components: 16, whiten: true } };
const STUDENT = { hidden: [32], epochs: 60, batchSize: 16 };

interface StudentView {
  readonly version: number;
  readonly sha256: string;
  readonly rounds: readonly number[];
  readonly modelCard: {
    readonly privacy: { readonly epsilon: number | null };
    readonly metrics: { readonly accuracy?: number };
  };
}

async function federate(out: string, supervisor: Supervisor): Promise<void> {
  const pkiDir = path.join(out, 'pki');
  writeDevelopmentPki(pkiDir, await createDevelopmentPki());
  const operatorToken = randomBytes(32).toString('base64url');
  const configFile = path.join(out, 'coordinator.yaml');
  fs.writeFileSync(
    configFile,
    stringify({
      dataDir: './coordinator',
      grpc: { listen: '127.0.0.1:0', tls: { cert: './pki/coordinator.crt', key: './pki/coordinator.key' } },
      admin: { listen: '127.0.0.1:0', operatorToken },
      sessions: { heartbeatInterval: '1s', offlineAfter: '4s' },
    }),
    { mode: 0o600 },
  );
  process.stdout.write('1/6 starting the coordinator (TLS gRPC on loopback)\n');
  supervisor.spawn(
    'coordinator',
    ['coordinator', 'start', '--config', configFile],
    path.join(out, 'logs', 'coordinator.log'),
  );
  const split = await splitDemoData(REPO, HOSPITALS.length);
  const runtimeFile = path.join(out, 'coordinator', RUNTIME_FILE);
  const runtime = await waitFor('the coordinator to start', 30_000, () =>
    fs.existsSync(runtimeFile)
      ? (JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as RuntimeInfo)
      : undefined,
  );
  const admin = { url: runtime.adminUrl, token: operatorToken };
  process.stdout.write(consoleAccessText(await demoConsoleAccess(admin)));
  process.stdout.write(
    `2/6 enrolling ${HOSPITALS.length} hospital nodes; their private records stay in their own folders:\n`,
  );
  for (const [i, site] of HOSPITALS.entries()) {
    const dir = path.join(out, 'sites', site);
    const records = split.hospitals[i];
    if (!records) throw new CliError(`no records for ${site}`);
    // The development certificate names localhost; TLS servers are not addressed by IP (RFC 6066).
    await initNode({
      dir,
      coordinator: runtime.grpcAddress,
      caFile: path.join(pkiDir, 'ca.crt'),
      site,
      serverName: 'localhost',
    });
    writeHospitalCsv(path.join(dir, 'data', 'records.csv'), records);
    configureSite(dir);
    process.stdout.write(
      `    ${site.padEnd(10)} ${String(records.count).padStart(3)} records, digits ${heldDigits(records).join(', ')} only\n`,
    );
    const { token } = await adminRequest<{ token: string }>(admin, 'POST', '/api/v1/enrolment-tokens', {
      site,
      ttl: '10m',
    });
    await enrollNode(dir, token);
    supervisor.spawn(site, ['node', 'start', '--dir', dir], path.join(out, 'logs', `${site}.log`));
  }
  process.stdout.write('3/6 waiting for every node to be online\n');
  await waitFor('all nodes online', 30_000, async () => {
    const res = await adminRequest<{ sites: { online: boolean }[] }>(admin, 'GET', '/api/v1/sites');
    return res.sites.length === HOSPITALS.length && res.sites.every((s) => s.online) ? true : undefined;
  });
  const federation = await createFederation(admin, split);
  await approveRoster(out);
  process.stdout.write(
    `5/6 every node downloads and verifies the reference set (${federation.sha256.slice(0, 12)}...) and rebuilds and checks the feature extractor\n`,
  );
  await waitFor('the reference set at every node', 30_000, () =>
    HOSPITALS.every((site) =>
      fs.existsSync(path.join(out, 'sites', site, 'federations', FEDERATION, 'reference.npy')),
    )
      ? true
      : undefined,
  );
  const baselines = demoBaselines(split, STUDENT);
  process.stdout.write(
    `6/6 ${ROUNDS} private rounds (each hospital's noised class sums under secure aggregation, then the student)\n`,
  );
  const students: StudentView[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) students.push(await runRound(admin, round));
  process.stdout.write(
    `    the hospitals evaluate student v${students.at(-1)?.version ?? '?'} on their own test records (securely aggregated, noised)\n`,
  );
  const evaluated = await playRound(admin, ROUNDS + 1, { evaluate: true });
  process.stdout.write('\n');
  const { localOnly, centralized } = await baselines;
  const ledgers = HOSPITALS.map((site) => SiteLedger.read(path.join(out, 'sites', site), SITE_PRIVACY));
  const mean = localOnly.reduce((a, b) => a + b, 0) / localOnly.length;
  const pct = (v: number | undefined | null) =>
    v === undefined || v === null ? '   -  ' : `${(v * 100).toFixed(1)}%`;
  process.stdout.write(
    `\nAccuracy on the coordinator's labelled evaluation slice (${split.evaluation.count} records, never sent to any site):\n` +
      `ROUND  STUDENT  LOCAL-ONLY (mean of ${HOSPITALS.length})  CENTRALIZED  EPSILON SPENT PER SITE (delta ${SITE_PRIVACY.delta})\n`,
  );
  for (const [i, st] of students.entries()) {
    const eps = ledgers
      .map((l, s) => `${HOSPITALS[s]} ${(l.entries[i]?.epsilonAfter ?? NaN).toFixed(2)}`)
      .join('  ');
    process.stdout.write(
      `${String(i + 1).padStart(5)}  ${pct(st.modelCard.metrics.accuracy).padStart(7)}  ${pct(mean).padStart(26)}  ${pct(centralized).padStart(11)}  ${eps}\n`,
    );
  }
  process.stdout.write(
    `(Each epsilon assumes at most ${ASSUMED_COLLUDERS} of the ${HOSPITALS.length} hospitals colludes with the coordinator and none drops out: node.yaml privacy.assumedColluders; with privacy.trust paranoid a hospital counts only its own noise share.)\n`,
  );
  const ev = evaluated.evaluation;
  if (ev)
    process.stdout.write(
      `\nSecurely aggregated evaluation of v${ev.studentVersion} at the hospitals: ${pct(ev.accuracy)}${ev.interval ? ` (95% interval ${pct(ev.interval.low)} to ${pct(ev.interval.high)} for the noise)` : ''} over about ${ev.records} of their own test records\n` +
        `(the coordinator saw only the noised sum of per-class counts; epsilon after it: ${ledgers.map((l, i) => `${HOSPITALS[i]} ${l.spent.toFixed(2)}`).join(', ')})\n`,
    );
  const last = students.at(-1);
  const studentDir = path.join(out, 'student');
  const exported = await runCli(
    [
      'coordinator',
      'student',
      'export',
      '--federation',
      FEDERATION,
      '--out',
      studentDir,
      '--config',
      configFile,
    ],
    path.join(out, 'logs', 'student-export.log'),
  );
  if (exported !== 0)
    throw new CliError(`student export failed; see ${path.join(out, 'logs', 'student-export.log')}`);
  const verified = HOSPITALS.filter((site) =>
    fs.existsSync(
      path.join(
        out,
        'sites',
        site,
        'federations',
        FEDERATION,
        'students',
        `v${last?.version ?? 0}`,
        'student.json',
      ),
    ),
  );
  process.stdout.write(
    `\nLocal-only: the same student architecture trained by each hospital on its own records (${localOnly.map(pct).join(', ')}).\n` +
      `Centralized: trained on all hospitals' records pooled, which the federation never does (the upper bound).\n` +
      `The student (v${last?.version ?? '?'}, sha256 ${last?.sha256.slice(0, 16) ?? '?'}...) was verified by ${verified.length} of ${HOSPITALS.length} hospitals.\n` +
      `Student and model card: ${studentDir} (student.onnx, model-card.md, model-card.json)\n` +
      `Logs: ${path.join(out, 'logs')}\nCoordinator data: ${path.join(out, 'coordinator')}\nNode directories (records, privacy ledger, students): ${path.join(out, 'sites')}\n`,
  );
}

/** Each hospital's privacy limit in the demo: every round is priced against it before answering. */
const SITE_PRIVACY = { epsilonLimit: TARGET_EPSILON, delta: 1e-5 };
/**
 * Each hospital assumes at most one of the other two colludes with the coordinator (node.yaml
 * privacy.assumedColluders), and the federation plans for the same: each adds half the target
 * noise, and any two honest hospitals' shares reach it. (The default, paranoid, would count only
 * a hospital's own share, and the federation's default 'all' would make each add all of it.)
 */
const ASSUMED_COLLUDERS = 1;

/** Adds the hospital's records, teachers and privacy limit to its node.yaml. */
function configureSite(dir: string): void {
  const file = path.join(dir, 'node.yaml');
  const config = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  Object.assign(config, {
    data: { train: 'data/records.csv', labelColumn: LABEL_COLUMN, testFraction: 0.1 },
    // A class-sum federation asks no teacher: one small one, which the node trains and never uses.
    teachers: { count: 1, hidden: [], epochs: 1 },
    privacy: { ...SITE_PRIVACY, assumedColluders: ASSUMED_COLLUDERS },
  });
  fs.writeFileSync(file, stringify(config), { mode: 0o600 });
}

/**
 * Each hospital's operator approves the federation's roster, as in a real deployment: the sites
 * exchange their identity-key fingerprints out of band (here the demo holds all three keys),
 * compute the roster fingerprint, and approve only that roster with the real CLI command.
 */
async function approveRoster(out: string): Promise<void> {
  const dirOf = (site: string) => path.join(out, 'sites', site);
  const members = HOSPITALS.map((site) => ({
    site,
    signingPublicKey: Buffer.from(
      readSiteKeyFile(path.join(dirOf(site), 'site.key')).signingPublicKey,
    ).toString('hex'),
  }));
  const fingerprint = rosterFingerprint(FEDERATION, members);
  process.stdout.write(
    `    each hospital approves the roster of ${HOSPITALS.length} sites and keys (fingerprint ${fingerprint.slice(0, 14)}...)\n`,
  );
  const args = (site: string) => [
    'node',
    'federation',
    'approve',
    FEDERATION,
    '--dir',
    dirOf(site),
    '--expect-fingerprint',
    fingerprint,
  ];
  const codes = await Promise.all(
    HOSPITALS.map((site) => runCli(args(site), path.join(out, 'logs', `${site}-approve.log`))),
  );
  const failed = HOSPITALS.filter((_s, i) => codes[i] !== 0);
  if (failed.length > 0)
    throw new CliError(`${failed.join(', ')} did not approve the roster; see ${path.join(out, 'logs')}`);
}

function runCli(args: string[], logFile: string): Promise<number> {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

/** Starts a round and shows its stages as they pass ("keys -> shares -> inputs -> unmask -> completed"). */
async function playRound(
  admin: { url: string; token: string },
  round: number,
  body: Record<string, unknown>,
): Promise<RoundView> {
  await adminRequest(admin, 'POST', `/api/v1/federations/${FEDERATION}/rounds`, body);
  const seen: string[] = [];
  process.stdout.write(`    round ${round}: `);
  const view = await waitFor(`round ${round}`, 120_000, async () => {
    const { rounds } = await adminRequest<{ rounds: RoundView[] }>(
      admin,
      'GET',
      `/api/v1/federations/${FEDERATION}/rounds`,
    );
    const r = rounds.find((x) => x.round === round);
    if (!r) return undefined;
    const now = r.status === 'open' ? r.stage : r.status;
    if (seen.at(-1) !== now) {
      process.stdout.write(`${seen.length ? ' -> ' : ''}${now}`);
      seen.push(now);
    }
    return r.status === 'open' ? undefined : r;
  });
  if (view.status !== 'completed') {
    process.stdout.write('\n');
    throw new CliError(`round ${round} was ${view.status}: ${view.reason ?? ''}`);
  }
  return view;
}

/** One distillation round, then the student the coordinator trains from everything so far. */
async function runRound(admin: { url: string; token: string }, round: number): Promise<StudentView> {
  const started = Date.now();
  await playRound(admin, round, {});
  const student = await waitFor(`the student of round ${round}`, 120_000, async () => {
    const { students } = await adminRequest<{ students: StudentView[] }>(
      admin,
      'GET',
      `/api/v1/federations/${FEDERATION}/students`,
    );
    return students.find((s) => s.rounds.includes(round));
  });
  process.stdout.write(
    `; student v${student.version} published (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  return student;
}

/**
 * The federation of the demo: the public reference set (unlabelled inputs), the labelled
 * evaluation slice the coordinator keeps for reporting, and the three hospitals as members.
 */
async function createFederation(
  admin: { url: string; token: string },
  split: DemoSplit,
): Promise<{ sha256: string; rows: number }> {
  const reference = split.reference;
  process.stdout.write(
    `4/6 creating federation '${FEDERATION}' with a public reference set of ${reference.count} inputs\n`,
  );
  const upload = await fetch(`${admin.url}/api/v1/reference-sets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/octet-stream' },
    body: npyInputs(reference),
  });
  const registered = (await upload.json()) as { sha256: string; error?: string };
  if (!upload.ok) throw new CliError(`reference set refused: ${registered.error ?? upload.status}`);
  await adminRequest(admin, 'POST', '/api/v1/federations', {
    id: FEDERATION,
    description:
      'Handwritten digits (8x8) across three hospitals, each holding three or four of the ten digits',
    labels: Array.from({ length: 10 }, (_, d) => String(d)),
    input: { shape: [64] },
    referenceSet: { sha256: registered.sha256 },
    student: { architecture: 'mlp', hidden: STUDENT.hidden },
    features: FEATURES,
    // The noise is planned for the target epsilon (docs/federations.md, privacy.targetEpsilon):
    // ROUNDS rounds and one evaluation round together cost each hospital at most TARGET_EPSILON.
    privacy: {
      mechanism: 'skellam',
      summary: 'class-sums',
      targetEpsilon: TARGET_EPSILON,
      delta: SITE_PRIVACY.delta,
      assumedColluders: ASSUMED_COLLUDERS,
    },
    secureAggregation: { dropoutTolerance: 0 },
    rounds: { minSites: 3, maxRounds: ROUNDS, maxEvaluationRounds: 1 },
    // The classifier fitted from the class sums labels every reference input; the student is
    // distilled from those labels (post-processing of the release, no privacy cost).
    distillation: { epochs: STUDENT.epochs, batchSize: STUDENT.batchSize },
  });
  for (const site of HOSPITALS)
    await adminRequest(admin, 'POST', `/api/v1/federations/${FEDERATION}/sites`, { site });
  const form = new FormData();
  form.append('inputs', new Blob([npyInputs(split.evaluation)]), 'inputs.npy');
  form.append('labels', new Blob([npyLabels(split.evaluation)]), 'labels.npy');
  const evaluation = await fetch(`${admin.url}/api/v1/federations/${FEDERATION}/evaluation-set`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin.token}` },
    body: form,
  });
  if (!evaluation.ok) throw new CliError(`evaluation set refused: ${await evaluation.text()}`);
  return { sha256: registered.sha256, rows: reference.count };
}
