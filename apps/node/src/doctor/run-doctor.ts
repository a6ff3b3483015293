import * as path from 'node:path';
import { checkConfig, checkDirectory, checkKeys } from './directory-checks';
import { checkCa, checkEnrolment } from './enrolment-checks';
import type { NodeConfig } from '../node-config';
import { checkSiteFiles } from '../site-check';
import { type DoctorCheck, warned } from './doctor-check';
import { checkProviders, type ProbedProvider } from './provider-check';

/** What `fedistill node doctor` is asked to check beyond the node directory itself. */
export interface NodeDoctorOptions {
  /** Execution providers to try besides cpu and those node.yaml's executionProvider uses. */
  readonly providers?: readonly ProbedProvider[];
  /** How long to wait for the coordinator's TLS handshake, in ms (default 5000). */
  readonly timeoutMs?: number;
  /** The environment the service would see ($CREDENTIALS_DIRECTORY); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The user the files must belong to; default the user running the check. */
  readonly uid?: number;
  readonly now?: Date;
  /**
   * The coordinator's reachability and certificate (a TLS handshake; the CLI's doctor passes it).
   * It lives outside apps/node: only the egress gate may open a connection from the node program
   * (egress-boundary.spec.ts). Without it the check is reported as skipped.
   */
  readonly probeCoordinator?: (config: NodeConfig, timeoutMs: number, now: Date) => Promise<DoctorCheck>;
}

/**
 * Checks a node directory before the service starts: the directory and the keys' permissions,
 * node.yaml, the enrolment and trust anchor, the coordinator's reachability and certificate, the
 * site's records and teachers (as `node check`) and the execution providers. Checks that need node.yaml are skipped when it
 * does not load (its own line says why). Never throws for a problem it finds.
 */
export async function runNodeDoctor(dir: string, o: NodeDoctorOptions = {}): Promise<DoctorCheck[]> {
  const abs = path.resolve(dir);
  const uid = o.uid ?? process.getuid?.();
  const now = o.now ?? new Date();
  const checks: DoctorCheck[] = [checkDirectory(abs, uid), checkKeys(abs, uid, o.env ?? process.env)];
  const { check, config } = checkConfig(abs);
  checks.push(check);
  if (config) {
    checks.push(checkCa(config, now), checkEnrolment(config));
    checks.push(
      o.probeCoordinator
        ? await o.probeCoordinator(config, o.timeoutMs ?? 5000, now)
        : warned('coordinator', 'not checked: no connection probe given'),
    );
    // node.yaml's data: and teachers: against the files: what `fedistill node check` runs.
    checks.push(...(await checkSiteFiles(config)));
  }
  checks.push(...(await checkProviders(config?.executionProvider, o.providers ?? [])));
  return checks;
}
