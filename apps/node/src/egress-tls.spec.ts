import * as net from 'node:net';
import * as tls from 'node:tls';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { createDevelopmentPki, type DevelopmentPki } from '@fedistill/pki';
import { tlsChannelCredentials } from './egress-tls';

describe(tlsChannelCredentials.name, () => {
  let pki: DevelopmentPki;
  let server: tls.Server;
  let port: number;
  /** The SNI server name of each handshake the server saw; false when none was sent. */
  const seen: Array<string | false> = [];

  beforeAll(async () => {
    pki = await createDevelopmentPki(); // certificate names localhost and 127.0.0.1
    server = tls.createServer(
      { cert: pki.serverCertPem, key: pki.serverKeyPem, ALPNProtocols: ['h2'] },
      (socket) => {
        seen.push(socket.servername ?? false);
        socket.end();
      },
    );
    server.on('tlsClientError', () => undefined);
    port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
    );
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
  });

  /** What grpc-js does with the credentials: a TCP socket to the server, then the connector. */
  async function handshake(sut: ChannelCredentials) {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const connector = sut._createSecureConnector({ path: '' } as never, {});
    try {
      const { socket: secured, secure } = await connector.connect(socket);
      const alpn = (secured as tls.TLSSocket).alpnProtocol;
      // The server answers once the handshake is done; wait for it to record the server name.
      await new Promise((resolve) => secured.once('close', resolve).resume());
      return { secure, alpn };
    } finally {
      socket.destroy();
    }
  }

  it('sends no server name to an IP address, and checks the IP against the certificate', async () => {
    const sut = tlsChannelCredentials(Buffer.from(pki.caCertPem), `127.0.0.1:${port}`);
    await expect(handshake(sut)).resolves.toEqual({ secure: true, alpn: 'h2' });
    expect(seen).toEqual([false]);
  });

  it('sends and checks a DNS name given as the server name', async () => {
    const sut = tlsChannelCredentials(Buffer.from(pki.caCertPem), `127.0.0.1:${port}`, 'localhost');
    await expect(handshake(sut)).resolves.toEqual({ secure: true, alpn: 'h2' });
    expect(seen).toEqual(['localhost']);
  });

  it('refuses a certificate that does not name the address or the server name', async () => {
    const ca = Buffer.from(pki.caCertPem);
    // The same server, dialled as if it were 10.9.8.7: its certificate does not name that IP.
    await expect(handshake(tlsChannelCredentials(ca, `10.9.8.7:${port}`))).rejects.toThrow(
      "IP: 10.9.8.7 is not in the cert's list",
    );
    await expect(
      handshake(tlsChannelCredentials(ca, `127.0.0.1:${port}`, 'other.example.org')),
    ).rejects.toThrow("Host: other.example.org. is not in the cert's altnames");
  });

  it('refuses a server whose certificate another CA issued', async () => {
    const other = await createDevelopmentPki();
    await expect(
      handshake(tlsChannelCredentials(Buffer.from(other.caCertPem), `127.0.0.1:${port}`)),
    ).rejects.toThrow(/self[- ]signed|unable to verify|unable to get local issuer/i);
  });

  it('refuses a malformed address or an empty server name', () => {
    const ca = Buffer.from(pki.caCertPem);
    expect(() => tlsChannelCredentials(ca, 'localhost')).toThrow(
      "'address' must be HOST:PORT or [IPv6]:PORT, got 'localhost'",
    );
    expect(() => tlsChannelCredentials(ca, 'localhost:1', ' ')).toThrow("'serverName' must not be empty");
    expect(tlsChannelCredentials(ca, '[::1]:443')._isSecure()).toBe(true);
  });
});
