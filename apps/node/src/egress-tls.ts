import { checkServerIdentity, connect, createSecureContext, type SecureContext } from 'node:tls';
import { CallCredentials, ChannelCredentials } from '@grpc/grpc-js';

type SecureConnector = ReturnType<ChannelCredentials['_createSecureConnector']>;

/**
 * An IPv4 or IPv6 literal (without brackets): what Node's DEP0123 warns about as a server name.
 * Not node:net's isIP, so that this file needs no network module but node:tls (see
 * egress-boundary.spec.ts). A DNS name never holds a colon, and a host that looks like a dotted
 * quad but is not one only loses its SNI: the certificate check is the same either way.
 */
function isIpLiteral(host: string): boolean {
  return host.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/** The host part of "HOST:PORT" or "[IPv6]:PORT". */
function hostOf(address: string): string {
  const match = /^\[([^\]]+)\]:\d{1,5}$/.exec(address) ?? /^([^:[\]]+):\d{1,5}$/.exec(address);
  if (!match?.[1]) throw new RangeError(`'address' must be HOST:PORT or [IPv6]:PORT, got '${address}'`);
  return match[1];
}

/**
 * Part of the egress gate (egress.ts is its only importer): the TLS layer of the gate's one
 * channel. It opens no connection itself; it wraps the TCP socket grpc-js opened to the address
 * the gate dials. egress-boundary.spec.ts allows node:tls here and nowhere else.
 *
 * TLS channel credentials for grpc-js that send no SNI server name when the target is an IP
 * address. grpc-js's own (`credentials.createSsl`) always sets `servername` to the target host,
 * and Node then prints DEP0123 ("Setting the TLS ServerName to an IP address is not permitted by
 * RFC 6066", section 3) for every node that dials its coordinator by address. Certificate
 * checks are unchanged: the chain must lead to `ca`, and the certificate must name `serverName`
 * when given, else the target host (an IP address is matched against the certificate's IP SANs,
 * as tls.checkServerIdentity does). What grpc-js's connector also does (ALPN "h2", refusing an
 * unauthorized peer) is done here the same way.
 */
class TlsChannelCredentials extends ChannelCredentials {
  constructor(
    private readonly context: SecureContext,
    private readonly host: string,
    private readonly serverName: string | undefined,
  ) {
    super();
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(
    _target: unknown,
    _options: unknown,
    callCredentials: CallCredentials = CallCredentials.createEmpty(),
  ): SecureConnector {
    const expected = this.serverName ?? this.host;
    // SNI carries DNS names only (RFC 6066, section 3): none for an IP address.
    const servername = isIpLiteral(expected) ? undefined : expected;
    const options = {
      secureContext: this.context,
      ALPNProtocols: ['h2'],
      ...(servername ? { servername } : {}),
      checkServerIdentity: (_host: string, cert: Parameters<typeof checkServerIdentity>[1]) =>
        checkServerIdentity(expected, cert),
    };
    return {
      connect: (socket) =>
        new Promise((resolve, reject) => {
          const tlsSocket = connect({ ...options, socket }, () => {
            if (!tlsSocket.authorized) {
              reject(tlsSocket.authorizationError);
              return;
            }
            resolve({ socket: tlsSocket, secure: true });
          });
          tlsSocket.on('error', reject);
        }),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => callCredentials,
      destroy: () => undefined,
    };
  }
}

/**
 * Channel credentials for dialing `address` ("HOST:PORT") over TLS, trusting `ca` (PEM), and
 * checking that the server's certificate names `serverName` (default: the host of `address`).
 * Use instead of `credentials.createSsl(ca)` with `grpc.ssl_target_name_override`.
 */
export function tlsChannelCredentials(ca: Buffer, address: string, serverName?: string): ChannelCredentials {
  if (serverName !== undefined && serverName.trim() === '')
    throw new RangeError("'serverName' must not be empty");
  return new TlsChannelCredentials(createSecureContext({ ca }), hostOf(address), serverName);
}
