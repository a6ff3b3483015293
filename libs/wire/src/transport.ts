import type { CallOptions, ClientReadableStream, Metadata, requestCallback, Server } from '@grpc/grpc-js';

/**
 * What the node's egress path needs from a channel to the coordinator: grpc-js's `Client` (TLS
 * over TCP, a deployment) or libs/simulate's in-memory channel (the simulator). Everything above
 * it (protocol messages, serialization, signatures, the egress log) is the same code in both.
 */
export interface WireChannel {
  makeUnaryRequest<Req, Res>(
    method: string,
    serialize: (value: Req) => Buffer,
    deserialize: (value: Buffer) => Res,
    argument: Req,
    metadata: Metadata,
    options: CallOptions,
    callback: requestCallback<Res>,
  ): unknown;
  makeServerStreamRequest<Req, Res>(
    method: string,
    serialize: (value: Req) => Buffer,
    deserialize: (value: Buffer) => Res,
    argument: Req,
    metadata: Metadata,
  ): ClientReadableStream<Res>;
  close(): void;
}

/**
 * Where the coordinator registers its node-facing services: a grpc-js `Server` bound to a TLS
 * port (a deployment) or libs/simulate's in-memory server (the simulator).
 */
export type WireServiceRegistry = Pick<Server, 'addService'>;
