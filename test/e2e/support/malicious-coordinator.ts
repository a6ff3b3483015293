import * as fs from 'node:fs';
import {
  type ClientReadableStream,
  Client,
  credentials,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type ServiceError,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { RPC_HEADER } from '@fedistill/identity';
import {
  ArtifactsService,
  AuditService,
  EnrolmentService,
  NodeSessionService,
  RoundsService,
} from '@fedistill/wire';

/** A deviation: given the method, the calling site and the coordinator's reply, what the site gets instead. */
export type Tamper = (call: { path: string; site: string; response: Buffer }) => Buffer;

const identity = (b: Buffer): Buffer => b;
const SERVICES = [EnrolmentService, NodeSessionService, RoundsService, ArtifactsService, AuditService];

/**
 * A malicious coordinator for attack tests: it holds the real coordinator's TLS certificate and
 * key (the coordinator's operator has them), terminates the nodes' TLS, runs the real
 * coordinator behind it for everything it does not change, and rewrites the replies it wants to,
 * per site. The nodes cannot tell it from the coordinator: same address, same certificate, same
 * protocol. What it sends a site is exactly what a coordinator that deviates from the protocol
 * could send; what it gets back is everything such a coordinator would hold.
 */
export class MaliciousCoordinator {
  private readonly server = new Server();
  private readonly upstream: Client;
  /** Every reply each site received and every request it sent, by method path (raw bytes). */
  readonly requests: { path: string; site: string; body: Buffer }[] = [];
  address = '';

  constructor(
    private readonly o: {
      readonly upstream: string;
      readonly caFile: string;
      readonly certFile: string;
      readonly keyFile: string;
      readonly tamper: Tamper;
      /** Sees each request as it arrives, before it is forwarded (e.g. to kill its sender then). */
      readonly onRequest?: (call: { path: string; site: string; body: Buffer }) => void;
      /** Answers a unary request itself (the reply bytes) instead of forwarding it (undefined). */
      readonly intercept?: (call: { path: string; site: string; body: Buffer }) => Buffer | undefined;
    },
  ) {
    this.upstream = new Client(o.upstream, credentials.createSsl(fs.readFileSync(o.caFile)), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    for (const service of SERVICES) {
      const definition: Record<string, ServiceDefinition[string]> = {};
      const implementation: UntypedServiceImplementation = {};
      for (const [name, m] of Object.entries(service)) {
        definition[name] = {
          path: m.path,
          requestStream: false,
          responseStream: m.responseStream,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        };
        implementation[name] = m.responseStream ? this.forwardStream(m.path) : this.forwardUnary(m.path);
      }
      this.server.addService(definition as ServiceDefinition, implementation);
    }
  }

  async listen(port = 0): Promise<string> {
    const creds = ServerCredentials.createSsl(null, [
      { cert_chain: fs.readFileSync(this.o.certFile), private_key: fs.readFileSync(this.o.keyFile) },
    ]);
    const bound = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.address = `127.0.0.1:${bound}`;
    return this.address;
  }

  close(): Promise<void> {
    this.upstream.close();
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private siteOf(call: { metadata: { get(key: string): unknown[] } }): string {
    return String(call.metadata.get(RPC_HEADER.site)[0] ?? '');
  }

  private forwardUnary(path: string) {
    return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
      const site = this.siteOf(call);
      this.requests.push({ path, site, body: call.request });
      this.o.onRequest?.({ path, site, body: call.request });
      const own = this.o.intercept?.({ path, site, body: call.request });
      if (own) return callback(null, own);
      this.upstream.makeUnaryRequest(
        path,
        identity,
        identity,
        call.request,
        call.metadata,
        (err: ServiceError | null, response?: Buffer) => {
          if (err || !response) return callback(err ?? new Error('empty reply'));
          try {
            callback(null, this.o.tamper({ path, site, response }));
          } catch (e) {
            callback(e as Error);
          }
        },
      );
    };
  }

  private forwardStream(path: string) {
    return (call: ServerWritableStream<Buffer, Buffer>): void => {
      const site = this.siteOf(call);
      this.requests.push({ path, site, body: call.request });
      const up: ClientReadableStream<Buffer> = this.upstream.makeServerStreamRequest(
        path,
        identity,
        identity,
        call.request,
        call.metadata,
      );
      up.on('data', (response: Buffer) => call.write(this.o.tamper({ path, site, response })));
      up.on('end', () => call.end());
      up.on('error', (err: ServiceError) => call.emit('error', err));
      call.on('cancelled', () => up.cancel());
    };
  }
}
