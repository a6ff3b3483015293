// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Options of createDevelopmentPki. */
export interface DevelopmentPkiOptions {
  /** Extra DNS names or IP addresses for the coordinator certificate (localhost and 127.0.0.1 are always there). */
  readonly hosts?: readonly string[];
  /** Validity of both certificates in days, 1 to 3650; default 365. */
  readonly validityDays?: number;
  /** Common name of the CA; default "fedistill development CA". */
  readonly caName?: string;
}

/** PEM texts of a development CA and a coordinator server certificate signed by it. */
export interface DevelopmentPki {
  readonly caCertPem: string;
  readonly caKeyPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function subjectAltNames(hosts: readonly string[]): x509.JsonGeneralName[] {
  const all = [...new Set(['localhost', '127.0.0.1', ...hosts])];
  return all.map((h) => {
    if (IPV4.test(h) || h.includes(':')) return { type: 'ip', value: h };
    if (!/^[A-Za-z0-9.*-]{1,253}$/.test(h))
      throw new RangeError(`'hosts' entry '${h}' is not a DNS name or IP address`);
    return { type: 'dns', value: h };
  });
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

function serial(): string {
  // Positive 16-byte serial (the high bit cleared), as RFC 5280 section 4.1.2.2 requires.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/**
 * A development CA (ECDSA P-256) and a coordinator TLS server certificate with SANs for
 * localhost, 127.0.0.1 and `hosts`. For production, bring certificates from your own CA.
 */
export async function createDevelopmentPki(options: DevelopmentPkiOptions = {}): Promise<DevelopmentPki> {
  const days = options.validityDays ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new RangeError("'validityDays' must be an integer in 1..3650");
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const caKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${options.caName ?? 'fedistill development CA'}, O=fedistill`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=fedistill coordinator, O=fedistill',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(subjectAltNames(options.hosts ?? [])),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  return {
    caCertPem: ca.toString('pem'),
    caKeyPem: await exportKeyPem(caKeys.privateKey),
    serverCertPem: server.toString('pem'),
    serverKeyPem: await exportKeyPem(serverKeys.privateKey),
  };
}

/** File names written by writeDevelopmentPki, relative to its directory. */
export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'coordinator.crt',
  serverKey: 'coordinator.key',
} as const;

/** Writes the PKI into `dir` (created if needed); private keys get mode 0600. Refuses to overwrite. */
export function writeDevelopmentPki(
  dir: string,
  pki: DevelopmentPki,
): Record<keyof typeof PKI_FILES, string> {
  fs.mkdirSync(dir, { recursive: true });
  const files = {
    caCert: path.join(dir, PKI_FILES.caCert),
    caKey: path.join(dir, PKI_FILES.caKey),
    serverCert: path.join(dir, PKI_FILES.serverCert),
    serverKey: path.join(dir, PKI_FILES.serverKey),
  };
  const existing = Object.values(files).filter((f) => fs.existsSync(f));
  if (existing.length > 0)
    throw new Error(`refusing to overwrite existing PKI files: ${existing.join(', ')}`);
  fs.writeFileSync(files.caCert, pki.caCertPem, { mode: 0o644 });
  fs.writeFileSync(files.caKey, pki.caKeyPem, { mode: 0o600 });
  fs.writeFileSync(files.serverCert, pki.serverCertPem, { mode: 0o644 });
  fs.writeFileSync(files.serverKey, pki.serverKeyPem, { mode: 0o600 });
  return files;
}

/** Subject alternative names and expiry of a PEM certificate, for display and checks. */
export function describeCertificate(pem: string): {
  subject: string;
  subjectAltName: string;
  validTo: string;
} {
  const cert = new NodeX509(pem);
  return { subject: cert.subject, subjectAltName: cert.subjectAltName ?? '', validTo: cert.validTo };
}
