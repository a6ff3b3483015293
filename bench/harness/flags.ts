// `--name value` flags of the harness and its workers, with errors that name the flag.

/** An integer flag, or `fallback` when absent. */
export function intFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v)) throw new RangeError(`'--${name}' needs an integer, got '${args[i + 1] ?? ''}'`);
  return v;
}

/** A number flag, or `fallback` when absent. */
export function numberFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v)) throw new RangeError(`'--${name}' needs a number, got '${args[i + 1] ?? ''}'`);
  return v;
}

/** A string flag; required when `allowed` is given without a fallback. */
export function stringFlag<T extends string>(
  args: readonly string[],
  name: string,
  allowed?: readonly T[],
  fallback?: T,
): T {
  const i = args.indexOf(`--${name}`);
  const v = i < 0 ? fallback : args[i + 1];
  if (v === undefined) throw new RangeError(`'--${name}' is required`);
  if (allowed && !allowed.includes(v as T))
    throw new RangeError(`'--${name}' must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

/** A flag's value, or undefined when absent; a flag given without a value is an error. */
export function optionalFlag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new RangeError(`'--${name}' needs a value`);
  return v;
}
