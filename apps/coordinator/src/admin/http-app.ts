import { PayloadTooLargeException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { RequestInvalidError } from '../domain/errors';

/** The largest JSON request body (a federation definition with 1,000 labels is well under it). */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;
/** The largest raw body: a reference set's NPY file. */
export const RAW_BODY_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * Names the JSON parser's failures as such before Nest sees them (it would pass on only the bare
 * "Unexpected end of JSON input"); other errors (413 too large...) go on unchanged.
 */
function nameJsonParseFailures(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const e = err as { type?: unknown; message?: unknown } | undefined;
  if (e?.type === 'entity.parse.failed')
    next(new RequestInvalidError(`request body is not valid JSON: ${String(e.message)}`));
  else next(err);
}

/**
 * The admin API's JSON body parser, set before Nest's default so that its limit is ours: a
 * larger body is refused with 413 before any handler runs. Raw uploads (reference sets) are
 * not parsed here but read by their handler (readRawBody), after the access guard: a caller
 * without an operator token cannot make the coordinator buffer 512 MiB.
 */
export function configureAdminHttp(app: NestExpressApplication): void {
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT_BYTES });
  app.use(nameJsonParseFailures);
}

const OCTET_STREAM = /^application\/octet-stream\s*(;|$)/i;

/**
 * Reads an application/octet-stream request body of at most `limit` bytes (413 past it). Any
 * other content type, or a body a parser already consumed, reads as empty.
 */
export async function readRawBody(req: Request, limit = RAW_BODY_LIMIT_BYTES): Promise<Buffer> {
  if (!OCTET_STREAM.test(req.headers['content-type'] ?? '') || req.readableEnded) return Buffer.alloc(0);
  const tooLarge = () =>
    new PayloadTooLargeException(`request body is larger than the limit (${limit} bytes)`);
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
