import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  KeyFileError,
  generateEnrolmentToken,
  generateSiteKeys,
  hashEnrolmentToken,
  isWellFormedToken,
  parseDuration,
  parseRpcAuthHeaders,
  readSiteKeyFile,
  signEnrolmentProof,
  signRpc,
  verifyEnrolmentProof,
  verifyRpcSignature,
  writeSiteKeyFile,
  assertSiteName,
} from './index';

describe('site key files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-keys-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips keys through a 0600 file', () => {
    const keys = generateSiteKeys();
    const file = path.join(dir, 'a.key');
    writeSiteKeyFile(file, keys);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const sut = readSiteKeyFile(file);
    expect(Buffer.from(sut.signingPublicKey)).toEqual(Buffer.from(keys.signingPublicKey));
    expect(Buffer.from(sut.boxPublicKey)).toEqual(Buffer.from(keys.boxPublicKey));
  });

  it('never overwrites an existing key file', () => {
    const file = path.join(dir, 'b.key');
    writeSiteKeyFile(file, generateSiteKeys());
    expect(() => writeSiteKeyFile(file, generateSiteKeys())).toThrow(/EEXIST/);
  });

  it('refuses a key file readable by others, and a malformed one', () => {
    const file = path.join(dir, 'c.key');
    writeSiteKeyFile(file, generateSiteKeys());
    fs.chmodSync(file, 0o644);
    expect(() => readSiteKeyFile(file)).toThrow(/readable by others \(mode 644\)/);
    const bad = path.join(dir, 'd.key');
    fs.writeFileSync(
      bad,
      '{"format":"fedistill-site-keys-v1","signingSecretKey":"AAAA","boxSecretKey":"AAAA"}',
      {
        mode: 0o600,
      },
    );
    expect(() => readSiteKeyFile(bad)).toThrow(KeyFileError);
    expect(() => readSiteKeyFile(path.join(dir, 'missing.key'))).toThrow(/does not exist/);
  });
});

describe(signRpc.name, () => {
  const keys = generateSiteKeys();
  const body = Buffer.from('request bytes');
  const method = '/fedistill.v1.NodeSession/Heartbeat';
  const to = { site: 'site-a', coordinator: 'c1'.repeat(32) };

  it('produces a signature that verifies for the same request', () => {
    const sut = signRpc(to, keys.signingSecretKey, method, body);
    expect(verifyRpcSignature(keys.signingPublicKey, method, body, sut)).toBe(true);
  });

  it('does not verify for another body, method, timestamp, nonce, key, site or coordinator', () => {
    const sut = signRpc(to, keys.signingSecretKey, method, body, 1000, 'ab'.repeat(16));
    expect(verifyRpcSignature(keys.signingPublicKey, method, Buffer.from('other'), sut)).toBe(false);
    expect(verifyRpcSignature(keys.signingPublicKey, '/fedistill.v1.Rounds/SendShares', body, sut)).toBe(
      false,
    );
    expect(verifyRpcSignature(keys.signingPublicKey, method, body, { ...sut, timestamp: 1001 })).toBe(false);
    expect(verifyRpcSignature(keys.signingPublicKey, method, body, { ...sut, nonce: 'cd'.repeat(16) })).toBe(
      false,
    );
    expect(verifyRpcSignature(generateSiteKeys().signingPublicKey, method, body, sut)).toBe(false);
    expect(verifyRpcSignature(keys.signingPublicKey, method, body, { ...sut, signature: 'AAAA' })).toBe(
      false,
    );
    // Issue 11, finding 10: the same key, re-labelled as another site or sent to another coordinator.
    expect(verifyRpcSignature(keys.signingPublicKey, method, body, { ...sut, site: 'site-b' })).toBe(false);
    expect(
      verifyRpcSignature(keys.signingPublicKey, method, body, { ...sut, coordinator: 'c2'.repeat(32) }),
    ).toBe(false);
  });

  it('refuses to sign for a coordinator that is not named by its key', () => {
    expect(() =>
      signRpc({ site: 'site-a', coordinator: 'localhost' }, keys.signingSecretKey, method, body),
    ).toThrow(/'to.coordinator' must be/);
  });

  it('parses its own headers and names what is missing or malformed', () => {
    const headers = signRpc(to, keys.signingSecretKey, method, body);
    const map = new Map<string, string>([
      ['x-fedistill-site', headers.site],
      ['x-fedistill-coordinator', headers.coordinator],
      ['x-fedistill-timestamp', String(headers.timestamp)],
      ['x-fedistill-nonce', headers.nonce],
      ['x-fedistill-signature', headers.signature],
    ]);
    expect(parseRpcAuthHeaders((k) => map.get(k))).toEqual(headers);
    expect(parseRpcAuthHeaders(() => undefined)).toMatch(/missing metadata x-fedistill-site/);
    map.delete('x-fedistill-coordinator');
    expect(parseRpcAuthHeaders((k) => map.get(k))).toMatch(
      /does not name the coordinator it is meant for \(metadata x-fedistill-coordinator\).*upgrade the node/,
    );
    map.set('x-fedistill-coordinator', headers.coordinator);
    map.set('x-fedistill-nonce', 'xyz');
    expect(parseRpcAuthHeaders((k) => map.get(k))).toMatch(/x-fedistill-nonce must be 32/);
  });
});

describe('enrolment tokens', () => {
  it('are well formed, unique and hashed', () => {
    const a = generateEnrolmentToken();
    expect(isWellFormedToken(a)).toBe(true);
    expect(a).not.toBe(generateEnrolmentToken());
    expect(hashEnrolmentToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(isWellFormedToken('fdt_short')).toBe(false);
  });

  it('bind the proof of possession to token, site and keys', () => {
    const keys = generateSiteKeys();
    const token = generateEnrolmentToken();
    const proof = signEnrolmentProof(token, 'site-a', keys.signingSecretKey, keys.boxPublicKey);
    expect(verifyEnrolmentProof(token, 'site-a', keys.signingPublicKey, keys.boxPublicKey, proof)).toBe(true);
    expect(verifyEnrolmentProof(token, 'site-b', keys.signingPublicKey, keys.boxPublicKey, proof)).toBe(
      false,
    );
    const other = generateSiteKeys();
    expect(verifyEnrolmentProof(token, 'site-a', keys.signingPublicKey, other.boxPublicKey, proof)).toBe(
      false,
    );
  });
});

describe(parseDuration.name, () => {
  it('parses units and compounds', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
  });
  it('names a bad duration', () => {
    expect(() => parseDuration('ten minutes')).toThrow("'ten minutes' is not a duration");
    expect(() => parseDuration('10')).toThrow(RangeError);
  });
});

describe(assertSiteName.name, () => {
  it('accepts names and rejects bad ones with the reason', () => {
    expect(() => assertSiteName('st-marys-2')).not.toThrow();
    expect(() => assertSiteName('St Marys')).toThrow(/lower-case letters/);
    expect(() => assertSiteName('a')).toThrow(RangeError);
  });
});

describe('fast Ed25519 (node:crypto)', () => {
  // Imported here to keep the suite's top imports about the other modules.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ed25519Signer, ed25519Verify } = require('./fast-ed25519') as typeof import('./fast-ed25519');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nacl = require('tweetnacl') as typeof import('tweetnacl');

  it('interoperates with tweetnacl both ways', () => {
    const keys = generateSiteKeys();
    const message = Buffer.from('entry');
    const ours = ed25519Signer(keys.signingSecretKey)(message);
    expect(nacl.sign.detached.verify(message, ours, keys.signingPublicKey)).toBe(true);
    const theirs = nacl.sign.detached(message, keys.signingSecretKey);
    expect(ed25519Verify(keys.signingPublicKey, message, theirs)).toBe(true);
    expect(Buffer.from(ours)).toEqual(Buffer.from(theirs));
  });

  it('rejects a wrong key, a changed message and malformed input', () => {
    const keys = generateSiteKeys();
    const sig = ed25519Signer(keys.signingSecretKey)(Buffer.from('a'));
    expect(ed25519Verify(generateSiteKeys().signingPublicKey, Buffer.from('a'), sig)).toBe(false);
    expect(ed25519Verify(keys.signingPublicKey, Buffer.from('b'), sig)).toBe(false);
    expect(ed25519Verify(keys.signingPublicKey, Buffer.from('a'), sig.subarray(1))).toBe(false);
    expect(() => ed25519Signer(new Uint8Array(32))).toThrow(RangeError);
  });
});
