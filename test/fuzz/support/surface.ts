import { Rng } from './rng';

/**
 * One surface that takes outside bytes: how to make a case, how to feed it, and what a clear
 * refusal looks like there. A case ends in one of three ways: accepted (the result passes
 * `validate`), refused (the error passes `refusal`: the library's typed error, naming the
 * problem), or a finding (anything else: an untyped error, a message that names nothing, an
 * accepted result that is not valid, or a case using more CPU than the hang limit).
 */
export interface FuzzSurface<I = unknown, R = unknown> {
  readonly name: string;
  /** One input, drawn from the case's random stream (mutated valid inputs, random bytes). */
  generate(rng: Rng): I;
  /** Reads `input` as the product does. */
  feed(input: I): R | Promise<R>;
  /** Why an accepted result is not valid, or undefined when it is. */
  validate?(result: R, input: I): string | undefined;
  /** Why `err` is not a clear refusal (wrong type, no cause named), or undefined when it is. */
  refusal(err: unknown): string | undefined;
  /** A short printable form of the input, for a finding's report. */
  show?(input: I): string;
  /** Builds what the surface needs once (valid seeds that take async work to make). */
  prepare?(): Promise<void>;
}

/** A surface of any input and result type, as lists and runners hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- erased on purpose: each surface checks its own types
export type AnySurface = FuzzSurface<any, any>;

export type CaseOutcome = 'accepted' | 'refused';

export interface CaseResult {
  readonly outcome: CaseOutcome | 'finding';
  readonly ms: number;
  /** What is wrong, for a finding. */
  readonly finding?: string;
}

/**
 * A case that uses more CPU than this (milliseconds of this process's user + system time, all
 * threads) counts as a hang. CPU time, not wall time: on a machine busy with other work a case
 * waits for a core without using one, and must not be counted against the surface; a runaway
 * parser burns CPU either way. A case that waits forever without using CPU is caught by the
 * test's timeout here and by the long run's watchdog (bench/fuzz.ts).
 */
export const HANG_MS = 2_000;

/** The printable start of some bytes: hex, at most `max` bytes. */
export function hexOf(b: Uint8Array, max = 96): string {
  const head = Buffer.from(b.subarray(0, max)).toString('hex');
  return b.length > max ? `${head}... (${b.length} bytes)` : head;
}

/** Refusal check for surfaces whose refusal is one error class with a non-trivial message. */
export function refusedWith(...types: (abstract new (...args: never[]) => Error)[]) {
  return (err: unknown): string | undefined => {
    if (!types.some((t) => err instanceof t))
      return `threw ${describeError(err)}; expected ${types.map((t) => t.name).join(' or ')}`;
    const message = (err as Error).message;
    if (!/[a-z]{3}/i.test(message) || message.length < 10)
      return `refusal does not name its cause: '${message}'`;
    return undefined;
  };
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message.slice(0, 300)}`;
  return `a non-Error value ${String(err).slice(0, 100)}`;
}

/** Runs case `seed` of `surface`: the seed alone reproduces it. */
export async function runCase<I, R>(
  surface: FuzzSurface<I, R>,
  seed: number,
  hangMs = HANG_MS,
): Promise<CaseResult> {
  const input = surface.generate(new Rng(seed));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let outcome: CaseOutcome;
  let finding: string | undefined;
  try {
    const result = await surface.feed(input);
    finding = surface.validate?.(result, input);
    outcome = 'accepted';
    if (finding) finding = `accepted an invalid input: ${finding}`;
  } catch (err) {
    finding = surface.refusal(err);
    outcome = 'refused';
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (!finding && cpuMs > hangMs)
    finding = `used ${cpuMs.toFixed(0)} ms of CPU (${ms.toFixed(0)} ms wall; hang limit ${hangMs} ms of CPU)`;
  if (!finding) return { outcome, ms };
  const shown = surface.show ? surface.show(input) : '';
  return { outcome: 'finding', ms, finding: `${surface.name} case ${seed}: ${finding}\n  input: ${shown}` };
}

/** Figures of one surface's run. */
export interface SurfaceReport {
  readonly surface: string;
  readonly cases: number;
  readonly accepted: number;
  readonly refused: number;
  readonly findings: number;
  readonly maxCaseMs: number;
  readonly wallMs: number;
  /** The first few findings, each naming its case seed and input. */
  readonly examples: readonly string[];
}

/** Runs cases `firstSeed` .. `firstSeed + cases - 1` of `surface`. */
export async function runSurface(
  surface: AnySurface,
  cases: number,
  firstSeed = 1,
  onProgress?: (done: number) => void,
  /** Called with each case's seed before it runs (a supervisor names a hanging case by it). */
  onCase?: (seed: number) => void,
): Promise<SurfaceReport> {
  const started = performance.now();
  let accepted = 0;
  let refused = 0;
  let maxCaseMs = 0;
  const examples: string[] = [];
  let findings = 0;
  for (let i = 0; i < cases; i += 1) {
    onCase?.(firstSeed + i);
    const r = await runCase(surface, firstSeed + i);
    maxCaseMs = Math.max(maxCaseMs, r.ms);
    if (r.outcome === 'accepted') accepted += 1;
    else if (r.outcome === 'refused') refused += 1;
    else {
      findings += 1;
      if (examples.length < 5) examples.push(r.finding ?? '');
    }
    if (onProgress && (i + 1) % 250 === 0) onProgress(i + 1);
  }
  return {
    surface: surface.name,
    cases,
    accepted,
    refused,
    findings,
    maxCaseMs,
    wallMs: performance.now() - started,
    examples,
  };
}
