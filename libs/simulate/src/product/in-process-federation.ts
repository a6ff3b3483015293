import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { parse, stringify } from 'yaml';
import { type Dataset, encodeNpy, encodeNpyFloat32 } from '@fedistill/data';
import { seededRandom } from '@fedistill/dp';
import { createDevelopmentPki, writeDevelopmentPki } from '@fedistill/pki';
import {
  loadCoordinatorConfig,
  type RunningCoordinator,
  startCoordinator,
} from '../../../../apps/coordinator/src';
import {
  approveFederation,
  enrollNode,
  initNode,
  type RunningNode,
  startNode,
} from '../../../../apps/node/src';
import type { SimulationConfig } from '../config';
import type { SimulationData } from '../data';
import { InMemoryServer } from '../transport/in-memory-transport';
import { AdminApi } from './admin-api';
import { federationDefinition, nodeSettings, siteName } from './federation-terms';
import { SimulationClock } from './simulation-clock';

export { siteName };

/** A deployment started in this process: the coordinator, one node per site, and the admin API. */
export interface InProcessFederation {
  readonly admin: AdminApi;
  readonly federationId: string;
  /** Each site's node directory (its egress log, ledger, teachers' data), in site order. */
  readonly nodeDirs: readonly string[];
  /** The coordinator's round clock (the simulator moves it past deadlines only silenced sites hold open). */
  readonly clock: SimulationClock;
  /** Stops the nodes, then the coordinator. */
  close(): Promise<void>;
}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const npyInputs = (d: Dataset) => encodeNpyFloat32([d.count, ...d.featureShape], d.features);
const npyLabels = (d: Dataset) => encodeNpy([d.count], d.labels);

/**
 * Deploys the simulation's federation inside this process, exactly as an operator and site
 * engineers would (docs/federations.md): a development PKI, the coordinator from its config
 * file, one node directory per site (`fedistill node init`, its records as NPY, node.yaml,
 * enrolment with a one-time token, roster approval), the reference and evaluation sets, and the
 * federation definition. Nodes reach the coordinator through the in-memory transport; each
 * node's noise comes from a seeded source (seed x 100 + site) instead of the CSPRNG.
 */
export async function startInProcessFederation(
  c: SimulationConfig,
  data: SimulationData,
  dir: string,
): Promise<InProcessFederation> {
  const pkiDir = path.join(dir, 'pki');
  writeDevelopmentPki(pkiDir, await createDevelopmentPki());
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const operatorToken = randomBytes(24).toString('base64url');
  const configFile = path.join(dir, 'coordinator.yaml');
  fs.writeFileSync(
    configFile,
    stringify({
      dataDir: './coordinator',
      grpc: { listen: '127.0.0.1:0', tls: { cert: './pki/coordinator.crt', key: './pki/coordinator.key' } },
      admin: { listen: '127.0.0.1:0', operatorToken },
      sessions: { heartbeatInterval: '1s', offlineAfter: '10m' },
      log: { level: 'warn' },
    }),
    { mode: 0o600 },
  );
  const log = (name: string): Logger =>
    pino({ level: 'warn' }, pino.destination({ dest: path.join(dir, 'logs', `${name}.log`), sync: true }));
  const transport = new InMemoryServer();
  const clock = new SimulationClock();
  const nodes: RunningNode[] = [];
  let coordinator: RunningCoordinator | undefined;
  const close = async (): Promise<void> => {
    for (const n of nodes) n.stop();
    await Promise.all(nodes.map((n) => n.finished.catch(() => undefined)));
    await coordinator?.close();
  };
  try {
    coordinator = await startCoordinator(loadCoordinatorConfig(configFile), log('coordinator'), {
      nodeTransport: transport,
      roundClock: clock.now,
      keepIdleAdminConnections: true,
    });
    const admin = new AdminApi(coordinator.runtime.adminUrl, operatorToken);
    const nodeDirs = data.sites.map((_, i) => path.join(dir, 'sites', siteName(i)));
    for (const [i, records] of data.sites.entries()) {
      const nodeDir = nodeDirs[i] as string;
      await initNode({
        dir: nodeDir,
        coordinator: 'in-memory.invalid:1',
        caFile: path.join(pkiDir, 'ca.crt'),
        site: siteName(i),
      });
      fs.mkdirSync(path.join(nodeDir, 'data'), { recursive: true });
      fs.writeFileSync(path.join(nodeDir, 'data', 'train.npy'), npyInputs(records));
      fs.writeFileSync(path.join(nodeDir, 'data', 'labels.npy'), npyLabels(records));
      const yamlFile = path.join(nodeDir, 'node.yaml');
      const yaml = parse(fs.readFileSync(yamlFile, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(yamlFile, stringify({ ...yaml, ...nodeSettings(c, i, nodeDir) }), { mode: 0o600 });
      const { token } = await admin.request<{ token: string }>('POST', '/enrolment-tokens', {
        site: siteName(i),
        ttl: '10m',
      });
      await enrollNode(nodeDir, token, { channel: transport.channel(siteName(i)) });
    }
    const reference = await admin.upload<{ sha256: string }>('/reference-sets', npyInputs(data.reference));
    const definition = federationDefinition(c, {
      classes: data.reference.numClasses,
      inputShape: data.reference.featureShape,
      referenceSha256: reference.sha256,
    });
    const federationId = definition.id as string;
    await admin.request('POST', '/federations', definition);
    for (const [i] of data.sites.entries())
      await admin.request('POST', `/federations/${federationId}/sites`, { site: siteName(i) });
    await admin.putFiles(`/federations/${federationId}/evaluation-set`, {
      inputs: npyInputs(data.test),
      labels: npyLabels(data.test),
    });
    // Each site's operator approves the roster it was shown (here without asking anyone).
    for (const [i, nodeDir] of nodeDirs.entries())
      await approveFederation(nodeDir, federationId, () => Promise.resolve(true), {
        channel: transport.channel(siteName(i)),
      });
    for (const [i, nodeDir] of nodeDirs.entries())
      nodes.push(
        await startNode(nodeDir, log(siteName(i)), {
          channel: transport.channel(siteName(i)),
          random: seededRandom(c.seed * 100 + i),
        }),
      );
    await waitFor('every node online', 60_000, async () => {
      const { sites } = await admin.request<{ sites: { online: boolean }[] }>('GET', '/sites');
      return sites.length === nodeDirs.length && sites.every((s) => s.online) ? true : undefined;
    });
    await waitFor('the verified reference set at every node', 120_000, () =>
      nodeDirs.every((d) => fs.existsSync(path.join(d, 'federations', federationId, 'reference.npy')))
        ? true
        : undefined,
    );
    return { admin, federationId, nodeDirs, clock, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
