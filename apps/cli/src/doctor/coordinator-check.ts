import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  type DoctorCheck,
  daysUntil,
  EXPIRY_WARNING_DAYS,
  failed,
  type NodeConfig,
  passed,
  warned,
} from '../../../node/src';

function connectionProblem(err: NodeJS.ErrnoException, address: string): string {
  if (err.code === 'ECONNREFUSED')
    return `connection refused at ${address}: is the coordinator running, and is the port open to this host?`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
    return `cannot resolve ${address.split(':')[0]}: ${err.code}`;
  return `cannot connect to ${address}: ${err.code ?? err.message}`;
}

function describePeer(socket: tls.TLSSocket, now: Date): { ok: boolean; text: string } {
  const peer = socket.getPeerCertificate();
  const to = new Date(peer.valid_to);
  const subject = peer.subject?.CN ?? '?';
  const left = daysUntil(to, now);
  const text = `certificate CN=${subject}, issued by CN=${peer.issuer?.CN ?? '?'}, valid until ${to.toISOString()}`;
  return left < EXPIRY_WARNING_DAYS
    ? { ok: false, text: `${text}: expires in ${Math.floor(left)} days` }
    : { ok: true, text };
}

/**
 * A TLS handshake with the configured coordinator, trusting only node.yaml's CA and expecting the
 * name the node expects (serverName, else the host), as the node's gRPC channel does. Only the
 * handshake happens: no request and none of the site's data leaves (the node's egress log, which
 * records every message to the coordinator, has nothing to record).
 */
export function checkCoordinator(config: NodeConfig, timeoutMs: number, now: Date): Promise<DoctorCheck> {
  const address = config.coordinator;
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  let ca: Buffer;
  try {
    ca = fs.readFileSync(config.caFile);
  } catch {
    return Promise.resolve(
      failed('coordinator', `not checked: the CA certificate ${config.caFile} cannot be read`),
    );
  }
  const name = config.serverName ?? host;
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = tls.connect({
      host,
      port,
      ca,
      // Node sends no SNI for an IP address; the certificate's name is still checked against it.
      ...(net.isIP(name) ? {} : { servername: name }),
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
      ALPNProtocols: ['h2'],
      // Decide below with the reason in hand; the socket is closed whatever the outcome.
      rejectUnauthorized: false,
    });
    const finish = (check: DoctorCheck) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(check);
    };
    const timer = setTimeout(
      () => finish(failed('coordinator', `no TLS answer from ${address} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(failed('coordinator', connectionProblem(err, address))),
    );
    socket.once('secureConnect', () => {
      const ms = Date.now() - started;
      const peer = describePeer(socket, now);
      if (!socket.authorized)
        return finish(
          failed(
            'coordinator',
            `${address} presented a certificate the node refuses (${String(socket.authorizationError)}) for name '${name}' with CA ${config.caFile}: ${peer.text}`,
          ),
        );
      if (socket.alpnProtocol !== 'h2')
        return finish(
          warned('coordinator', `${address} did not agree to HTTP/2 (ALPN), which gRPC needs: ${peer.text}`),
        );
      const text = `TLS to ${address} in ${ms} ms, ${peer.text}`;
      finish(peer.ok ? passed('coordinator', text) : warned('coordinator', text));
    });
  });
}
