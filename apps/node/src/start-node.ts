import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { readSiteKeyFile } from '@fedistill/identity';
import { readEnrolment } from './enroll-node';
import { loadNodeConfig, NODE_FILES } from './node-config';
import { FederationSync } from './federation-sync';
import { LogAnchor } from './log-anchor';
import { openNodeEgress } from './node-audit';
import { NodeSession } from './node-session';

export const NODE_VERSION = '0.1.0';

export interface RunningNode {
  /** Resolves when the session ends (revocation, a fatal refusal, or stop()). */
  readonly finished: Promise<void>;
  stop(): void;
}

/** Starts a node's session from its directory. */
export function startNode(dir: string, log?: Logger): RunningNode {
  const config = loadNodeConfig(dir);
  const logger = log ?? pino({ level: config.logLevel }).child({ site: config.site });
  const enrolment = readEnrolment(config.dir);
  const keys = readSiteKeyFile(path.join(config.dir, NODE_FILES.keys));
  const { audit, egress } = openNodeEgress(config, keys);
  const anchor = new LogAnchor(
    egress,
    audit.chain,
    keys,
    Buffer.from(enrolment.coordinatorSigningPublicKey, 'hex'),
  );
  const federations = new FederationSync(egress, config.dir, logger);
  const session = new NodeSession(
    egress,
    {
      heartbeatIntervalMs: enrolment.heartbeatIntervalMs,
      initialDelayMs: config.reconnect.initialDelayMs,
      maxDelayMs: config.reconnect.maxDelayMs,
      nodeVersion: NODE_VERSION,
      anchorIntervalMs: config.anchorIntervalMs,
      onEvent: (event) => {
        if (event.event?.$case === 'welcome') void federations.syncAll(event.event.value.federationIds);
      },
      anchor: () => anchor.exchange(),
      onRevoked: (reason) =>
        void audit.chain.append({ event: 'revocation', peer: 'coordinator', detail: reason }),
    },
    logger,
  );
  logger.info({ coordinator: config.coordinator }, 'node starting');
  const finished = session
    .run()
    // A last anchor on the way out, so the coordinator holds the site's final head.
    .then(() => anchor.exchange(3000))
    .then(
      () => undefined,
      (err: Error) => logger.warn({ reason: err.message }, 'final log anchor not exchanged'),
    )
    .finally(() => {
      egress.close();
      audit.close();
      logger.info('node stopped');
    });
  return { finished, stop: () => session.stop() };
}
