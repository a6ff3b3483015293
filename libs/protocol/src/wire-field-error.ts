/**
 * A message from the wire that breaks the round protocol: a missing field, a key of the wrong
 * length, a threshold outside its range. `field` names the proto field (snake_case, as in
 * proto/); the message says what was wrong with it. The coordinator maps it to
 * INVALID_ARGUMENT; a node refuses the round with it (DECLINE_REASON_PARAMETERS_REFUSED).
 */
export class WireFieldError extends Error {
  override readonly name = 'WireFieldError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** Throws WireFieldError unless `v` is an integer in [min, max]. */
export function wireInt(field: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new WireFieldError(
      field,
      `${v} is outside [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}]`,
    );
  return v;
}

/** Throws WireFieldError unless `bytes` has exactly `length` bytes; returns a plain Uint8Array copy. */
export function wireBytes(field: string, bytes: Uint8Array | undefined, length?: number): Uint8Array {
  if (!bytes) throw new WireFieldError(field, 'is required');
  if (length !== undefined && bytes.length !== length)
    throw new WireFieldError(field, `has ${bytes.length} bytes; it must have ${length}`);
  return new Uint8Array(bytes);
}
