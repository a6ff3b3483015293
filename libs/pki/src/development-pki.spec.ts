import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { createDevelopmentPki, writeDevelopmentPki } from './development-pki';

describe(createDevelopmentPki.name, () => {
  it('issues a server certificate that Node verifies against the CA, with the SANs', async () => {
    const sut = await createDevelopmentPki({ hosts: ['coordinator.example.org', '10.1.2.3'] });
    const ca = new X509Certificate(sut.caCertPem);
    const server = new X509Certificate(sut.serverCertPem);
    expect(ca.ca).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.subjectAltName).toContain('DNS:localhost');
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(server.subjectAltName).toContain('DNS:coordinator.example.org');
    expect(server.checkHost('coordinator.example.org')).toBe('coordinator.example.org');
  });

  it('serves a real TLS handshake that a client trusting only the CA accepts', async () => {
    const sut = await createDevelopmentPki();
    const server = tls.createServer({ key: sut.serverKeyPem, cert: sut.serverCertPem }, (s) => s.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const client = tls.connect(
        { host: '127.0.0.1', port, ca: sut.caCertPem, servername: 'localhost' },
        () => {
          client.once('data', (d: Buffer) => resolve(d.toString()));
        },
      );
      client.on('error', reject);
    });
    server.close();
    expect(reply).toBe('ok');
  });

  it('rejects a bad host name and a bad validity', async () => {
    await expect(createDevelopmentPki({ hosts: ['bad host'] })).rejects.toThrow("'hosts' entry 'bad host'");
    await expect(createDevelopmentPki({ validityDays: 0 })).rejects.toThrow(RangeError);
  });
});

describe(writeDevelopmentPki.name, () => {
  it('writes private keys 0600 and refuses to overwrite', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-pki-'));
    const files = writeDevelopmentPki(dir, await createDevelopmentPki());
    expect(fs.statSync(files.caKey).mode & 0o777).toBe(0o600);
    expect(fs.statSync(files.serverKey).mode & 0o777).toBe(0o600);
    expect(() =>
      writeDevelopmentPki(dir, { caCertPem: '', caKeyPem: '', serverCertPem: '', serverKeyPem: '' }),
    ).toThrow(/refusing to overwrite/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
