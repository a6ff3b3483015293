import type {
  Metadata,
  sendUnaryData,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { status as grpcStatus } from '@grpc/grpc-js';
import { findLimitViolation } from '@fedistill/wire';
import type { SiteRecord } from '@fedistill/store';
import { RequestInvalidError } from '../domain/errors';
import { toServiceError } from './grpc-status';
import type { NodeAuthenticator } from './node-authenticator';

/** What the wrapped deserializer hands to the middleware: the exact bytes and the decoded message. */
interface RawRequest {
  readonly raw: Buffer;
  readonly message?: unknown;
  readonly decodeError?: string;
}

/** The authenticated caller and call facts, given to every handler. */
export interface CallContext {
  /** The authenticated site; undefined only for the unsigned Enroll RPC. */
  readonly site: SiteRecord | undefined;
  readonly method: string;
  readonly peer: string;
  readonly metadata: Metadata;
}

export type UnaryHandler = (request: never, ctx: CallContext) => Promise<unknown>;
export type StreamHandler = (
  request: never,
  ctx: CallContext,
  stream: ServerWritableStream<unknown, unknown>,
) => Promise<void>;

export interface MethodSpec {
  /** The request message's type name in WIRE_LIMITS. */
  readonly requestType: string;
  readonly handler: UnaryHandler | StreamHandler;
}

/**
 * What the middleware tells about every call, by method path ('/fedistill.v1.Rounds/...'):
 * metrics/ listens. Must not throw or block.
 */
export interface CallObserver {
  /** A request's exact bytes arrived (before decoding or authentication). */
  received(method: string, bytes: number): void;
  /** The call ended with this error status. */
  failed(method: string, code: number): void;
}

const NO_OBSERVER: CallObserver = { received: () => undefined, failed: () => undefined };

export interface RefusalLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The one server middleware for node RPCs. For each method of a generated ts-proto service it
 * keeps the exact request bytes (the signature covers them), refuses malformed protobuf and
 * fields over their documented limits, authenticates the signature (unless `auth` is null, for
 * enrolment), then calls the handler with the authenticated site. Every refusal is logged and
 * mapped to a status in grpc-status.ts; `observer` hears of every request's size and every error.
 */
export function secureService(
  definition: ServiceDefinition,
  methods: Readonly<Record<string, MethodSpec>>,
  auth: NodeAuthenticator | null,
  log: RefusalLogger,
  observer: CallObserver = NO_OBSERVER,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const wrapped: Record<string, ServiceDefinition[string]> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const spec = methods[name];
    if (!spec) throw new RangeError(`no handler for ${method.path}`);
    wrapped[name] = {
      ...method,
      requestDeserialize: (raw: Buffer): RawRequest => {
        observer.received(method.path, raw.length);
        try {
          return { raw, message: method.requestDeserialize(raw) };
        } catch (err) {
          return { raw, decodeError: (err as Error).message };
        }
      },
    };
    implementation[name] = method.responseStream
      ? makeStreamHandler(method.path, spec, auth, log, observer)
      : makeUnaryHandler(method.path, spec, auth, log, observer);
  }
  return { definition: wrapped as ServiceDefinition, implementation };
}

async function admit(
  path: string,
  spec: MethodSpec,
  auth: NodeAuthenticator | null,
  call: { request: RawRequest; metadata: Metadata; getPeer(): string },
): Promise<{ message: unknown; ctx: CallContext }> {
  const { raw, message, decodeError } = call.request;
  if (decodeError !== undefined)
    throw new RequestInvalidError(`malformed protobuf: not a valid ${spec.requestType} (${decodeError})`);
  const violation = findLimitViolation(spec.requestType, message);
  if (violation) throw new RequestInvalidError(`${spec.requestType}: ${violation.message}`);
  const site = auth ? await auth.authenticate(path, raw, call.metadata) : undefined;
  return { message, ctx: { site, method: path, peer: call.getPeer(), metadata: call.metadata } };
}

function report(path: string, peer: string, err: unknown, log: RefusalLogger, observer: CallObserver) {
  const mapped = toServiceError(err);
  observer.failed(path, mapped.error.code ?? 2);
  if (mapped.known)
    log.warn(
      { method: path, peer, code: mapped.error.code, reason: mapped.error.details },
      'request refused',
    );
  else if (mapped.error.code === grpcStatus.UNAVAILABLE)
    // The store could not be reached or written (its disk full or read-only): name the cause.
    log.error(
      { method: path, peer, err },
      `request answered UNAVAILABLE (the site retries): the coordinator's database failed: ${(err as Error).message}`,
    );
  else log.error({ method: path, peer, err }, 'request failed with an unexpected error');
  return mapped.error;
}

function makeUnaryHandler(
  path: string,
  spec: MethodSpec,
  auth: NodeAuthenticator | null,
  log: RefusalLogger,
  observer: CallObserver,
) {
  return (call: ServerUnaryCall<RawRequest, unknown>, callback: sendUnaryData<unknown>): void => {
    admit(path, spec, auth, call)
      .then(({ message, ctx }) => (spec.handler as UnaryHandler)(message as never, ctx))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(report(path, call.getPeer(), err, log, observer)),
      );
  };
}

function makeStreamHandler(
  path: string,
  spec: MethodSpec,
  auth: NodeAuthenticator | null,
  log: RefusalLogger,
  observer: CallObserver,
) {
  return (call: ServerWritableStream<RawRequest, unknown>): void => {
    admit(path, spec, auth, call)
      .then(({ message, ctx }) =>
        (spec.handler as StreamHandler)(
          message as never,
          ctx,
          call as ServerWritableStream<unknown, unknown>,
        ),
      )
      // grpc-js turns an 'error' event on a server stream into the call's final status.
      .catch((err: unknown) => call.emit('error', report(path, call.getPeer(), err, log, observer)));
  };
}
