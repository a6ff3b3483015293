import * as fs from 'node:fs';
import nacl from 'tweetnacl';

/** A site's long-term keys: Ed25519 for signatures, X25519 (nacl.box) for sealed material. */
export interface SiteKeys {
  /** Ed25519 public key, 32 bytes. */
  readonly signingPublicKey: Uint8Array;
  /** Ed25519 secret key in tweetnacl's 64-byte form (seed followed by public key). */
  readonly signingSecretKey: Uint8Array;
  /** X25519 public key, 32 bytes. */
  readonly boxPublicKey: Uint8Array;
  /** X25519 secret key, 32 bytes. */
  readonly boxSecretKey: Uint8Array;
}

/** Thrown when a key file is missing, unreadable, too open or malformed. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

/** Fresh site keys from tweetnacl's CSPRNG (backed by node:crypto randomBytes). */
export function generateSiteKeys(): SiteKeys {
  const signing = nacl.sign.keyPair();
  const box = nacl.box.keyPair();
  return {
    signingPublicKey: signing.publicKey,
    signingSecretKey: signing.secretKey,
    boxPublicKey: box.publicKey,
    boxSecretKey: box.secretKey,
  };
}

interface KeyFileJson {
  format: 'fedistill-site-keys-v1';
  signingSecretKey: string;
  boxSecretKey: string;
}

/** Writes the secret keys to `file` with mode 0600; refuses to overwrite an existing file. */
export function writeSiteKeyFile(file: string, keys: SiteKeys): void {
  const body: KeyFileJson = {
    format: 'fedistill-site-keys-v1',
    signingSecretKey: Buffer.from(keys.signingSecretKey).toString('base64'),
    boxSecretKey: Buffer.from(keys.boxSecretKey).toString('base64'),
  };
  // 'wx' fails when the file exists: keys are never silently replaced.
  fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  fs.chmodSync(file, 0o600);
}

function decodeKey(value: unknown, bytes: number, field: string, file: string): Uint8Array {
  const raw = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  if (raw.length !== bytes) throw new KeyFileError(`${file}: '${field}' must be ${bytes} bytes of base64`);
  return new Uint8Array(raw);
}

/** Reads keys written by writeSiteKeyFile; refuses a file that group or others can read. */
export function readSiteKeyFile(file: string): SiteKeys {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new KeyFileError(`key file ${file} does not exist (run \`fedistill node init\` first)`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new KeyFileError(
      `key file ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}): chmod 600 it`,
    );
  }
  let json: Partial<KeyFileJson>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<KeyFileJson>;
  } catch (err) {
    throw new KeyFileError(`key file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (json.format !== 'fedistill-site-keys-v1') throw new KeyFileError(`${file}: unknown key file format`);
  const signingSecretKey = decodeKey(json.signingSecretKey, 64, 'signingSecretKey', file);
  const boxSecretKey = decodeKey(json.boxSecretKey, 32, 'boxSecretKey', file);
  return {
    signingSecretKey,
    signingPublicKey: nacl.sign.keyPair.fromSecretKey(signingSecretKey).publicKey,
    boxSecretKey,
    boxPublicKey: nacl.box.keyPair.fromSecretKey(boxSecretKey).publicKey,
  };
}
