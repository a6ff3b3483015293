import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { readSiteKeyFile } from '@fedistill/identity';
import { enableHeapRetention } from '@fedistill/secagg';
import { readEnrolment } from './enroll-node';
import { loadNodeConfig } from './node-config';
import { siteKeyFile } from './site-key-file';
import { FederationSync, type LocalFederation } from './federation-sync';
import { CoordinatorHeadWatch } from './coordinator-head-watch';
import { LogAnchor } from './log-anchor';
import { NodeMetrics, serveNodeMetrics } from './metrics/node-metrics';
import { openNodeEgress } from './node-audit';
import { NodeSession } from './node-session';
import { RoundAnswerer } from './round-answerer';
import { RoundParticipant } from './round-participant';
import { RoundSignals } from './round-signals';
import { SiteLedger } from './site-ledger';
import { fetchStudent, publishedDigest, type StudentRecord } from './student-fetch';
import type { StudentPublished, WireChannel } from '@fedistill/wire';
import { cryptoRandom, type RandomSource, seededRandom } from '@fedistill/dp';

export const NODE_VERSION = '0.1.0';

export interface RunningNode {
  /** Resolves when the session ends (revocation, a fatal refusal, or stop()). */
  readonly finished: Promise<void>;
  stop(): void;
}

/** How a node process reaches its coordinator and draws its noise; defaults are a deployment's. */
export interface StartNodeOptions {
  /** Instead of TLS to node.yaml's coordinator: the simulator's in-memory channel (libs/simulate). */
  readonly channel?: WireChannel;
  /** Noise and rounding randomness; the OS CSPRNG unless a simulation gives a seeded source. */
  readonly random?: RandomSource;
}

/** The environment variable that seeds a node's noise in end-to-end tests (never in production). */
export const TEST_NOISE_SEED_ENV = 'FEDISTILL_TEST_NOISE_SEED';

/**
 * The node's randomness: `o.random`, else a seeded source when the test suite sets
 * FEDISTILL_TEST_NOISE_SEED (honoured only with NODE_ENV=test, which jest sets; refused otherwise,
 * since predictable noise is no noise), else the CSPRNG.
 */
export function randomSource(
  o: StartNodeOptions,
  logger: Pick<Logger, 'warn'>,
  env: NodeJS.ProcessEnv = process.env,
): RandomSource {
  if (o.random) return o.random;
  const seed = env[TEST_NOISE_SEED_ENV];
  if (seed === undefined || seed === '') return cryptoRandom;
  if (env.NODE_ENV !== 'test' || !/^\d+$/.test(seed))
    throw new Error(
      `${TEST_NOISE_SEED_ENV} is set (${JSON.stringify(seed)}): it makes this site's noise predictable and is honoured only in the test suite (NODE_ENV=test, a decimal seed); unset it`,
    );
  logger.warn({ seed }, 'TEST ONLY: seeded noise; this node gives no privacy');
  return seededRandom(Number(seed));
}

/**
 * Starts a node's session from its directory. Fails at once (before the audit log is opened) when
 * another process holds the directory, and when the privacy ledger is missing or behind the
 * egress log (see SiteLedger.open).
 */
export async function startNode(dir: string, log?: Logger, o: StartNodeOptions = {}): Promise<RunningNode> {
  const config = loadNodeConfig(dir);
  const logger = log ?? pino({ level: config.logLevel }).child({ site: config.site });
  const enrolment = readEnrolment(config.dir);
  const keys = readSiteKeyFile(siteKeyFile(config.dir));
  const random = randomSource(o, logger);
  const ledger = await SiteLedger.open(config.dir, config.privacy);
  // Only when node.yaml has a metrics section (loopback unless it allows more).
  const metrics = config.metrics ? new NodeMetrics(ledger) : undefined;
  const metricsServer = config.metrics
    ? await serveNodeMetrics(metrics!, config.metrics).catch((err: Error) => {
        ledger.close();
        throw new Error(`metrics.listen ${config.metrics!.host}:${config.metrics!.port}: ${err.message}`);
      })
    : undefined;
  if (metricsServer)
    logger.info(
      { metrics: `http://${config.metrics!.host}:${metricsServer.port}/metrics` },
      'serving metrics',
    );
  if (config.retainFreedHeap && enableHeapRetention())
    logger.warn(
      { setting: 'performance.retainFreedHeap' },
      'glibc keeps freed heap in this process: faster masking, but freed buffers that held summaries and masks stay resident',
    );
  const { audit, egress } = openNodeEgress(
    config,
    keys,
    enrolment.coordinatorSigningPublicKey,
    o.channel,
    metrics && ((kind, bytes) => metrics.egress(kind, bytes)),
  );
  const anchor = new LogAnchor(
    egress,
    audit.chain,
    keys,
    Buffer.from(enrolment.coordinatorSigningPublicKey, 'hex'),
    new CoordinatorHeadWatch(config.dir),
    logger,
  );
  const federations = new FederationSync(egress, config.dir, logger);
  const synced = new Map<string, LocalFederation>();
  const federation = async (id: string, sha256?: string): Promise<LocalFederation> => {
    const known = synced.get(id);
    if (known && (!sha256 || known.referenceSha256 === sha256)) return known;
    const local = await federations.sync(id);
    synced.set(id, local);
    if (sha256 && local.referenceSha256 !== sha256)
      throw new Error(`federation '${id}' names reference set ${local.referenceSha256}, not ${sha256}`);
    return local;
  };
  // Published students: one verified download each, shared by the event handler and evaluation rounds.
  const students = new Map<string, Promise<StudentRecord>>();
  const student = (published: StudentPublished): Promise<StudentRecord> => {
    const key = `${published.federationId}#${published.version}`;
    let p = students.get(key);
    if (!p) {
      p = fetchStudent(
        {
          egress,
          audit: audit.chain,
          dir: config.dir,
          log: logger,
          local: async () => {
            const l = await answerer.local(await federation(published.federationId));
            return { inputShape: l.schema.inputShape, test: l.test };
          },
        },
        published,
      );
      p.catch(() => students.delete(key));
      students.set(key, p);
    }
    return p;
  };
  const timed = new WeakSet<object>(); // prepared teachers whose training time is in the metrics
  const counted = new Set<string>(); // rounds whose outcome is in the metrics
  // The event stream's stage and round news wakes the round's participant (round-signals.ts).
  const signals = new RoundSignals();
  const answerer = new RoundAnswerer({
    config,
    egress,
    audit: audit.chain,
    ledger,
    // The consistency quorum counts the colluders the site assumes (more than (n + C)/2 of the
    // invited sites must sign one survivor set). A paranoid site uses C = 0 here: its ledger
    // already charges for its own noise share alone, so its epsilon holds even if secure
    // aggregation failed it completely, and C = n - 1 would need every invited site to sign.
    participant: new RoundParticipant(
      egress,
      config.site,
      keys.signingSecretKey,
      undefined,
      config.privacy.trust.kind === 'colluders' ? config.privacy.trust.colluders : 0,
      signals,
    ),
    federation,
    log: logger,
    random,
    hooksFor: (round) =>
      config.drillStopAfter && (config.drillRounds?.includes(round) ?? true)
        ? { stopAfter: config.drillStopAfter }
        : undefined,
    onPrepared: (federationId, site) => {
      if (!timed.has(site)) metrics?.teachersPrepared(federationId, site.trainingMs);
      timed.add(site);
    },
    student: async (federationId, version) => {
      const known = students.get(`${federationId}#${version}`);
      const record = known
        ? await known
        : await student({
            federationId,
            version,
            sha256: await publishedDigest(egress, federationId, version),
          });
      return path.join(
        config.dir,
        'federations',
        federationId,
        'students',
        `v${record.version}`,
        'student.onnx',
      );
    },
  });
  const onWelcome = async (ids: readonly string[]) => {
    for (const local of await federations.syncAll(ids)) {
      synced.set(local.id, local);
      // Teachers are trained as soon as the federation is known, not inside a round's deadline.
      if (config.data)
        answerer
          .prepare(local)
          .catch((err: Error) =>
            logger.error({ federation: local.id, reason: err.message }, 'cannot prepare teachers'),
          );
    }
  };
  const session = new NodeSession(
    egress,
    {
      heartbeatIntervalMs: enrolment.heartbeatIntervalMs,
      initialDelayMs: config.reconnect.initialDelayMs,
      maxDelayMs: config.reconnect.maxDelayMs,
      nodeVersion: NODE_VERSION,
      anchorIntervalMs: config.anchorIntervalMs,
      onEvent: (event) => {
        const e = event.event;
        if (e?.$case === 'welcome') void onWelcome(e.value.federationIds);
        if ((e?.$case === 'stageOpened' || e?.$case === 'roundFinished') && e.value.round)
          signals.notify(e.value.round.federationId, e.value.round.round, e.$case === 'roundFinished');
        if (e?.$case === 'roundAnnounced' && e.value.participants.some((p) => p.siteName === config.site)) {
          const federationId = e.value.round?.federationId ?? '';
          // A round announced again (after a reconnect) is answered, and counted, once.
          const first = !counted.has(`${federationId}#${e.value.round?.round}`);
          counted.add(`${federationId}#${e.value.round?.round}`);
          answerer.handle(e.value).then(
            (a) =>
              first && metrics?.round(federationId, a.status, a.status === 'declined' ? a.code : undefined),
            () => first && metrics?.round(federationId, 'failed'), // logged by the answerer
          );
        }
        if (e?.$case === 'studentPublished') {
          const published = e.value;
          student(published).catch((err: Error) =>
            logger.error({ federation: published.federationId, reason: err.message }, 'student not accepted'),
          );
        }
      },
      anchor: () => anchor.exchange(),
      onConnection: (open) => metrics?.connection(open),
      onRevoked: (reason) =>
        void audit.chain.append({ event: 'revocation', peer: 'coordinator', detail: reason }),
    },
    logger,
  );
  logger.info({ coordinator: config.coordinator }, 'node starting');
  if (config.drillStopAfter)
    logger.warn(
      { stopAfter: config.drillStopAfter, rounds: config.drillRounds ?? 'all' },
      'dropout drill: this node stops answering rounds after this stage',
    );
  const finished = session
    .run()
    // A last anchor on the way out, so the coordinator holds the site's final head.
    .then(() => anchor.exchange(3000))
    .then(
      () => undefined,
      (err: Error) => logger.warn({ reason: err.message }, 'final log anchor not exchanged'),
    )
    .then(() => answerer.close())
    .finally(() => {
      egress.close();
      audit.close();
      ledger.close();
      void metricsServer?.close();
      logger.info('node stopped');
    });
  return { finished, stop: () => session.stop() };
}
