import { EventEmitter } from 'node:events';
import {
  type CallOptions,
  type ClientReadableStream,
  Metadata,
  type MethodDefinition,
  type requestCallback,
  type ServiceDefinition,
  type ServiceError,
  status,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { WireChannel, WireServiceRegistry } from '@fedistill/wire';

type AnyMethod = MethodDefinition<unknown, unknown>;
interface Route {
  readonly method: AnyMethod;
  readonly handler: UntypedHandleCall;
}

function serviceError(code: status, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

/** A server error as the client sees it: grpc-js passes code, details and metadata through. */
function received(err: Partial<ServiceError> | null | undefined): ServiceError {
  return serviceError(
    err?.code ?? status.UNKNOWN,
    err?.details ?? err?.message ?? 'unknown error',
    err?.metadata,
  );
}

/**
 * The simulator's transport (issue 12): the coordinator registers its node-facing services here
 * exactly as it does on a grpc-js `Server`, and every node gets an {@link InMemoryChannel} in
 * place of a TLS `Client`. Requests and responses still cross as serialized protobuf bytes through
 * the generated (de)serializers, signed metadata is passed as is, and each call is delivered on a
 * later turn of the event loop, so the coordinator's and the node's code run exactly as deployed;
 * only TCP and TLS are missing. Written here because grpc-js has no in-process transport.
 */
export class InMemoryServer implements WireServiceRegistry {
  private readonly routes = new Map<string, Route>();

  addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    for (const [name, method] of Object.entries(service)) {
      const handler = implementation[name] ?? implementation[method.originalName ?? ''];
      if (!handler) throw new Error(`no implementation for ${method.path}`);
      this.routes.set(method.path, { method: method as AnyMethod, handler });
    }
  }

  /** A channel for one node; `peer` is what the coordinator's logs name as the caller's address. */
  channel(peer: string): InMemoryChannel {
    return new InMemoryChannel(this.routes, peer);
  }
}

/** One node's connection to an {@link InMemoryServer}; see there. */
export class InMemoryChannel implements WireChannel {
  private closed = false;
  private readonly open = new Set<{ cancel(): void }>();

  constructor(
    private readonly routes: ReadonlyMap<string, Route>,
    private readonly peer: string,
  ) {}

  private route(path: string): Route | ServiceError {
    if (this.closed) return serviceError(status.UNAVAILABLE, 'channel closed');
    return this.routes.get(path) ?? serviceError(status.UNIMPLEMENTED, `unknown method ${path}`);
  }

  makeUnaryRequest<Req, Res>(
    path: string,
    serialize: (value: Req) => Buffer,
    deserialize: (value: Buffer) => Res,
    argument: Req,
    metadata: Metadata,
    options: CallOptions,
    callback: requestCallback<Res>,
  ): void {
    const body = serialize(argument);
    let done = false;
    const finish = (err: ServiceError | null, res?: Res) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(err, res);
    };
    const deadline = options?.deadline instanceof Date ? options.deadline.getTime() : options?.deadline;
    const timer =
      typeof deadline === 'number' && Number.isFinite(deadline)
        ? setTimeout(
            () => finish(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded')),
            Math.max(0, deadline - Date.now()),
          )
        : undefined;
    setImmediate(() => {
      const route = this.route(path);
      if (route instanceof Error) return finish(route);
      const call = Object.assign(new EventEmitter(), {
        request: route.method.requestDeserialize(body),
        metadata: metadata.clone(),
        getPeer: () => this.peer,
        getPath: () => path,
        cancelled: false,
        getDeadline: () => deadline ?? Infinity,
      });
      (route.handler as (c: unknown, cb: (e: ServiceError | null, r?: unknown) => void) => void)(
        call,
        (err, res) =>
          setImmediate(() =>
            err
              ? finish(received(err))
              : finish(null, deserialize(route.method.responseSerialize(res) as Buffer)),
          ),
      );
    });
  }

  makeServerStreamRequest<Req, Res>(
    path: string,
    serialize: (value: Req) => Buffer,
    deserialize: (value: Buffer) => Res,
    argument: Req,
    metadata: Metadata,
  ): ClientReadableStream<Res> {
    const body = serialize(argument);
    const client = new EventEmitter() as EventEmitter & { cancel(): void };
    const server = Object.assign(new EventEmitter(), {
      request: undefined as unknown,
      metadata: metadata.clone(),
      getPeer: () => this.peer,
      getPath: () => path,
      cancelled: false,
      ended: false,
      write: (message: unknown): boolean => {
        if (server.ended || server.cancelled) return false;
        const bytes =
          route instanceof Error ? Buffer.alloc(0) : (route.method.responseSerialize(message) as Buffer);
        setImmediate(() => !client.listenerCount('data') || client.emit('data', deserialize(bytes)));
        return true;
      },
      end: (): void => {
        if (server.ended) return;
        server.ended = true;
        setImmediate(() => {
          this.open.delete(client);
          client.emit('status', { code: status.OK, details: 'OK', metadata: new Metadata() });
          client.emit('end');
          server.emit('close');
        });
      },
    });
    // grpc-js: an 'error' emitted on a server stream becomes the call's final status.
    server.on('error', (err: Partial<ServiceError>) => {
      if (server.ended) return;
      server.ended = true;
      setImmediate(() => {
        this.open.delete(client);
        client.emit('error', received(err));
        server.emit('close');
      });
    });
    client.cancel = () => {
      if (server.ended) return;
      server.ended = true;
      server.cancelled = true;
      this.open.delete(client);
      setImmediate(() => {
        server.emit('cancelled');
        server.emit('close');
        client.emit('error', serviceError(status.CANCELLED, 'Cancelled on client'));
      });
    };
    this.open.add(client);
    const route = this.route(path);
    setImmediate(() => {
      if (route instanceof Error) {
        server.ended = true;
        this.open.delete(client);
        return client.emit('error', route);
      }
      server.request = route.method.requestDeserialize(body);
      (route.handler as (c: unknown) => void)(server);
    });
    return client as unknown as ClientReadableStream<Res>;
  }

  /** Ends the node's open streams (as a closed TCP connection would) and refuses later calls. */
  close(): void {
    this.closed = true;
    for (const stream of [...this.open]) stream.cancel();
  }
}
