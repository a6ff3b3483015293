import { z } from 'zod';
import { parseDuration } from '@fedistill/identity';

/** A duration setting such as `30s` or `24h`, parsed to milliseconds; a bad one names why. */
export const zodDuration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

/** An optional duration setting: milliseconds, or undefined when absent (the caller's default applies). */
export const zodOptionalDuration = () =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      try {
        return parseDuration(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
