import { Readable } from 'node:stream';
import { PayloadTooLargeException } from '@nestjs/common';
import type { Request } from 'express';
import { readRawBody } from './http-app';

/** A request whose body arrives in `chunks`, with `headers`; `consumed()`: bytes pulled so far. */
function request(headers: Record<string, string>, chunks: string[]): Request & { consumed(): number } {
  let pulled = 0;
  const stream = Readable.from(
    (function* () {
      for (const c of chunks) {
        pulled += c.length;
        yield Buffer.from(c);
      }
    })(),
    { objectMode: false },
  );
  return Object.assign(stream, { headers, consumed: () => pulled }) as unknown as Request & {
    consumed(): number;
  };
}

describe(readRawBody.name, () => {
  const octets = { 'content-type': 'application/octet-stream' };

  it('reads an octet-stream body whole', async () => {
    const sut = await readRawBody(request(octets, ['ab', 'cd']), 4);
    expect(sut.toString()).toBe('abcd');
  });

  it('refuses a body past the limit with 413, without reading on', async () => {
    const req = request(octets, ['abc', 'de', 'fgh']);
    await expect(readRawBody(req, 4)).rejects.toThrow(PayloadTooLargeException);
    expect(req.consumed()).toBe(5);
    const declared = request({ ...octets, 'content-length': '5' }, ['abcde']);
    await expect(readRawBody(declared, 4)).rejects.toThrow('request body is larger than the limit (4 bytes)');
    expect(declared.consumed()).toBe(0);
  });

  it('reads any other content type as empty (the handler names what to send)', async () => {
    const req = request({ 'content-type': 'text/plain' }, ['abcd']);
    expect((await readRawBody(req, 10)).length).toBe(0);
    expect(req.consumed()).toBe(0);
  });
});
