import * as fs from 'node:fs';
import * as path from 'node:path';
import { NODE_FILES } from './node-config';

/** The variable a service manager sets to the folder of a service's credentials (systemd LoadCredential=). */
export const CREDENTIALS_DIRECTORY_ENV = 'CREDENTIALS_DIRECTORY';

/**
 * Where the node reads the site's keys: $CREDENTIALS_DIRECTORY/site.key when the service manager
 * passed them as a credential (deploy/systemd/fedistill-node.service), else DIR/site.key.
 */
export function siteKeyFile(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  const credentials = env[CREDENTIALS_DIRECTORY_ENV];
  if (credentials) {
    const file = path.join(credentials, NODE_FILES.keys);
    if (fs.existsSync(file)) return file;
  }
  return path.join(dir, NODE_FILES.keys);
}
