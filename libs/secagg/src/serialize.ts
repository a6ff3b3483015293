/**
 * JSON encoding of protocol state and messages that keeps Uint8Array and Uint32Array intact
 * (base64 inside tagged objects), so the coordinator can persist a round and resume it.
 */

const TAG_U8 = '$u8';
const TAG_U32 = '$u32';

/** Encodes `value` (plain objects, arrays, strings, numbers, null, Uint8Array, Uint32Array) as JSON. */
export function encodeState(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint32Array)
      return { [TAG_U32]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    if (v instanceof Uint8Array) return { [TAG_U8]: Buffer.from(v).toString('base64') };
    return v;
  });
}

/** Decodes what `encodeState` produced. The caller asserts the type it stored. */
export function decodeState<T>(json: string): T {
  return JSON.parse(json, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o[TAG_U8] === 'string') return new Uint8Array(Buffer.from(o[TAG_U8], 'base64'));
      if (typeof o[TAG_U32] === 'string') {
        const bytes = Buffer.from(o[TAG_U32], 'base64');
        return new Uint32Array(new Uint8Array(bytes).buffer, 0, bytes.length / 4);
      }
    }
    return v;
  }) as T;
}
