import * as fs from 'node:fs';
import { readSiteKeyFile } from '@fedistill/identity';
import { loadNodeConfig, type NodeConfig } from '../node-config';
import { siteKeyFile } from '../site-key-file';
import { type DoctorCheck, failed, oneLine, passed, warned } from './doctor-check';

const mode = (stat: fs.Stats) => (stat.mode & 0o777).toString(8).padStart(4, '0');

/** The owner the service's files must have: the user running the check, when the platform has uids. */
function ownerProblem(file: string, stat: fs.Stats, uid: number | undefined): string | undefined {
  if (uid === undefined || stat.uid === uid) return undefined;
  return `${file} is owned by uid ${stat.uid}, not by the user running this check (uid ${uid}): run doctor as the service's user, or chown the node directory to it`;
}

/** The node directory exists, belongs to this user and nobody else can write to it. */
export function checkDirectory(dir: string, uid: number | undefined): DoctorCheck {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    return failed('directory', `${dir} does not exist: run \`fedistill node init --dir ${dir} ...\``);
  }
  if (!stat.isDirectory()) return failed('directory', `${dir} is not a directory`);
  const owner = ownerProblem(dir, stat, uid);
  if (owner) return failed('directory', owner);
  if ((stat.mode & 0o022) !== 0)
    return failed(
      'directory',
      `${dir} is writable by group or others (mode ${mode(stat)}): chmod 700 ${dir}`,
    );
  if ((stat.mode & 0o077) !== 0)
    return warned(
      'directory',
      `${dir} can be listed by group or others (mode ${mode(stat)}): chmod 700 ${dir}`,
    );
  return passed('directory', `${dir} (mode ${mode(stat)})`);
}

/** The site's keys: present, readable by their owner only, owned by this user, well-formed. */
export function checkKeys(dir: string, uid: number | undefined, env: NodeJS.ProcessEnv): DoctorCheck {
  const file = siteKeyFile(dir, env);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return failed('keys', `${file} does not exist: run \`fedistill node init\`, or restore the site's keys`);
  }
  const owner = ownerProblem(file, stat, uid);
  if (owner) return failed('keys', owner);
  try {
    const keys = readSiteKeyFile(file);
    const signing = Buffer.from(keys.signingPublicKey).toString('hex');
    return passed('keys', `${file} (mode ${mode(stat)}), signing key ${signing.slice(0, 16)}...`);
  } catch (err) {
    return failed('keys', oneLine(err));
  }
}

/** node.yaml, parsed by the node's own loader. */
export function checkConfig(dir: string): { check: DoctorCheck; config: NodeConfig | undefined } {
  try {
    const config = loadNodeConfig(dir);
    return {
      config,
      check: passed(
        'config',
        `site '${config.site}', coordinator ${config.coordinator}, executionProvider ${config.executionProvider}`,
      ),
    };
  } catch (err) {
    return { config: undefined, check: failed('config', oneLine(err)) };
  }
}
