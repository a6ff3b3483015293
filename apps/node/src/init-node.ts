import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertSiteName, generateSiteKeys, writeSiteKeyFile } from '@fedistill/identity';
import { openNodeAudit } from './node-audit';
import { NODE_FILES, NodeConfigError, writeNodeConfig } from './node-config';

export interface InitNodeOptions {
  readonly dir: string;
  readonly coordinator: string;
  readonly caFile: string;
  readonly site: string;
  readonly serverName?: string;
}

/**
 * Creates a node directory: the site's Ed25519 and X25519 keys (mode 0600), a copy of the
 * coordinator's CA certificate and node.yaml. Refuses to touch an existing node directory.
 */
export async function initNode(
  options: InitNodeOptions,
): Promise<{ dir: string; signingPublicKeyHex: string }> {
  try {
    assertSiteName(options.site, '--site');
  } catch (err) {
    throw new NodeConfigError((err as Error).message);
  }
  if (!/^[^\s:]+:\d{1,5}$/.test(options.coordinator))
    throw new NodeConfigError(`--coordinator '${options.coordinator}' must be HOST:PORT`);
  let ca: string;
  try {
    ca = fs.readFileSync(options.caFile, 'utf8');
  } catch {
    throw new NodeConfigError(`--ca ${options.caFile} cannot be read`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new NodeConfigError(`--ca ${options.caFile} is not a PEM certificate`);
  const dir = path.resolve(options.dir);
  if (fs.existsSync(path.join(dir, NODE_FILES.config)) || fs.existsSync(path.join(dir, NODE_FILES.keys))) {
    throw new NodeConfigError(`${dir} already holds a node: refusing to overwrite its keys`);
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = generateSiteKeys();
  writeSiteKeyFile(path.join(dir, NODE_FILES.keys), keys);
  fs.writeFileSync(path.join(dir, NODE_FILES.ca), ca, { mode: 0o644 });
  writeNodeConfig(dir, {
    site: options.site,
    coordinator: options.coordinator,
    serverName: options.serverName,
  });
  // The egress log starts now, with its genesis entry naming the key that signs it.
  const audit = openNodeAudit(dir, options.site, keys);
  await audit.chain.head();
  audit.close();
  return { dir, signingPublicKeyHex: Buffer.from(keys.signingPublicKey).toString('hex') };
}
