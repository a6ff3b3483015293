import * as fs from 'node:fs';
import * as path from 'node:path';
import { WIRE_LIMITS } from './limits';
import { findLimitViolation } from './check-limits';

interface ProtoField {
  message: string;
  field: string;
  type: string;
  repeated: boolean;
  limit?: { n: number; unit: 'bytes' | 'items'; exact: boolean };
}

const camel = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** Reads every field declaration of proto/fedistill/v1 with the `Limit:` comment above it. */
function readProtoFields(): ProtoField[] {
  const dir = path.join(__dirname, '..', '..', '..', 'proto', 'fedistill', 'v1');
  const fields: ProtoField[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.proto'))) {
    let message = '';
    let pending: ProtoField['limit'];
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const msg = /^message (\w+) \{/.exec(line);
      if (msg?.[1]) message = msg[1];
      const lim = /Limit: (exactly|at most) (\d+) (bytes|items)/.exec(line);
      if (lim?.[2])
        pending = { n: Number(lim[2]), unit: lim[3] as 'bytes' | 'items', exact: lim[1] === 'exactly' };
      const decl = /^\s+(repeated )?([\w.]+) (\w+) = \d+;/.exec(line);
      if (decl?.[2] && decl[3] && message) {
        fields.push({
          message,
          field: camel(decl[3]),
          type: decl[2],
          repeated: Boolean(decl[1]),
          limit: pending,
        });
        pending = undefined;
      }
    }
  }
  return fields;
}

describe('WIRE_LIMITS', () => {
  const fields = readProtoFields();

  it('finds the contract fields', () => {
    expect(fields.length).toBeGreaterThan(80);
  });

  it('documents a limit on every bytes, string and repeated field in proto/', () => {
    const missing = fields
      .filter((f) => (f.repeated || f.type === 'bytes' || f.type === 'string') && !f.limit)
      .map((f) => `${f.message}.${f.field}`);
    expect(missing).toEqual([]);
  });

  it('enforces exactly the limits that proto/ documents', () => {
    const mismatches: string[] = [];
    for (const f of fields.filter((x) => x.limit)) {
      const limit = WIRE_LIMITS[f.message]?.[f.field];
      const expected = f.limit!;
      const ok =
        limit !== undefined &&
        limit.kind !== 'message' &&
        limit.max === expected.n &&
        (limit.kind === 'repeated') === (expected.unit === 'items') &&
        (limit.kind === 'bytes' ? Boolean(limit.exact) === expected.exact : !expected.exact);
      if (!ok)
        mismatches.push(
          `${f.message}.${f.field}: proto says ${JSON.stringify(expected)}, table has ${JSON.stringify(limit)}`,
        );
    }
    expect(mismatches).toEqual([]);
  });

  it('has no table entry for a field that proto/ lacks', () => {
    const known = new Set(fields.map((f) => `${f.message}.${f.field}`));
    const extra = Object.entries(WIRE_LIMITS).flatMap(([msg, limits]) =>
      Object.keys(limits)
        .map((field) => `${msg}.${field}`)
        .filter((key) => !known.has(key)),
    );
    expect(extra).toEqual([]);
  });
});

describe(findLimitViolation.name, () => {
  const share = { fromSiteId: 1, toSiteId: 2, nonce: new Uint8Array(24), ciphertext: new Uint8Array(100) };

  it('accepts a message within its limits', () => {
    expect(
      findLimitViolation('SendSharesRequest', { round: { federationId: 'f', round: 1 }, shares: [share] }),
    ).toBeUndefined();
  });

  it('names a nested field over its limit', () => {
    const bad = { ...share, ciphertext: new Uint8Array(1025) };
    const sut = findLimitViolation('SendSharesRequest', { shares: [share, bad] });
    expect(sut?.field).toBe('shares[1].ciphertext');
    expect(sut?.message).toBe("field 'shares[1].ciphertext' is 1025 bytes; the limit is 1024");
  });

  it('refuses a key of the wrong length, including an empty one', () => {
    expect(
      findLimitViolation('RoundKeys', { signature: new Uint8Array(64), maskPublicKey: new Uint8Array(31) })
        ?.field,
    ).toBe('maskPublicKey');
    expect(
      findLimitViolation('EnrollRequest', { token: 't', signingPublicKey: new Uint8Array(0) })?.message,
    ).toBe("field 'signingPublicKey' must be exactly 32 bytes, got 0");
  });

  it('counts string limits in UTF-8 bytes and repeated limits in items', () => {
    expect(findLimitViolation('RoundRef', { federationId: 'é'.repeat(33) })?.message).toContain('66 bytes');
    expect(
      findLimitViolation('GetUnmaskRequestResponse', { survivors: new Array(256).fill(1) })?.message,
    ).toBe("field 'survivors' has 256 items; the limit is 255");
  });
});
