import { WIRE_LIMITS, type FieldLimit } from './limits';

/** The first field of a message that passes its documented limit. */
export interface LimitViolation {
  /** Path of the field, e.g. `shares[3].ciphertext`. */
  readonly field: string;
  /** A sentence naming the field, its size and its limit. */
  readonly message: string;
}

const utf8Length = (value: string): number => Buffer.byteLength(value, 'utf8');

function sizeOf(value: unknown): number {
  if (typeof value === 'string') return utf8Length(value);
  if (value instanceof Uint8Array) return value.length;
  return 0;
}

function checkScalar(path: string, limit: FieldLimit, value: unknown): LimitViolation | undefined {
  if (limit.kind === 'bytes') {
    const size = sizeOf(value);
    if (limit.exact === true && size !== limit.max) {
      return { field: path, message: `field '${path}' must be exactly ${limit.max} bytes, got ${size}` };
    }
    if (size > limit.max)
      return { field: path, message: `field '${path}' is ${size} bytes; the limit is ${limit.max}` };
  }
  if (limit.kind === 'string') {
    const size = sizeOf(value);
    if (size > limit.max)
      return { field: path, message: `field '${path}' is ${size} bytes; the limit is ${limit.max}` };
  }
  return undefined;
}

function checkField(path: string, limit: FieldLimit, value: unknown): LimitViolation | undefined {
  if (limit.kind === 'message') {
    return value === undefined || value === null
      ? undefined
      : findLimitViolation(limit.type, value, `${path}.`);
  }
  if (limit.kind !== 'repeated') return checkScalar(path, limit, value);
  const items = Array.isArray(value) ? (value as unknown[]) : [];
  if (items.length > limit.max) {
    return { field: path, message: `field '${path}' has ${items.length} items; the limit is ${limit.max}` };
  }
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    const itemPath = `${path}[${i}]`;
    const found = limit.of
      ? findLimitViolation(limit.of, item, `${itemPath}.`)
      : limit.itemMaxBytes !== undefined
        ? checkScalar(itemPath, { kind: 'bytes', max: limit.itemMaxBytes }, item)
        : undefined;
    if (found) return found;
  }
  return undefined;
}

/**
 * Checks a decoded message against `WIRE_LIMITS[typeName]`, recursing into embedded messages.
 * Returns the first violation, or undefined when every field is within its limit.
 */
export function findLimitViolation(
  typeName: string,
  message: unknown,
  prefix = '',
): LimitViolation | undefined {
  const limits = WIRE_LIMITS[typeName];
  if (limits === undefined) throw new RangeError(`'typeName' ${typeName} has no entry in WIRE_LIMITS`);
  if (typeof message !== 'object' || message === null) return undefined;
  const record = message as Record<string, unknown>;
  for (const [field, limit] of Object.entries(limits)) {
    const found = checkField(`${prefix}${field}`, limit, record[field]);
    if (found) return found;
  }
  return undefined;
}
