import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from '../cli-error';

/** A file to write into the output folder: its name there and its contents. */
export interface OutputFile {
  readonly name: string;
  readonly contents: Uint8Array | string;
}

/**
 * Checks that `out` may receive a new folder: it is absent, an empty folder, or (with `force`)
 * a folder to replace that holds none of `inputs`. Nothing is written.
 * @throws CliError (exit 2) naming the problem.
 */
export function checkOutputFolder(out: string, force: boolean, inputs: readonly string[]): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new CliError(`--out ${out} is a file, not a folder`, 2);
  if (fs.readdirSync(out).length === 0) return;
  if (!force)
    throw new CliError(`--out ${out} is not empty; choose another folder or give --force to replace it`, 2);
  const inside = inputs.find((f) => {
    const rel = path.relative(path.resolve(out), path.resolve(f));
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
  if (inside) throw new CliError(`--out ${out} holds the input ${inside}; --force would delete it`, 2);
}

/**
 * Writes `files` into the folder `out` all at once: into a temporary sibling first, which is
 * then renamed to `out` (replacing an empty or, after {@link checkOutputFolder} with force, an
 * old folder), so a failure leaves no half-written folder. Files are mode 0600: records are private.
 */
export function writeOutputFolder(out: string, files: readonly OutputFile[]): void {
  const target = path.resolve(out);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = path.join(parent, `.${path.basename(target)}.partial-${tag}`);
  fs.mkdirSync(temp, { mode: 0o700 });
  try {
    for (const f of files) fs.writeFileSync(path.join(temp, f.name), f.contents, { mode: 0o600 });
  } catch (err) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  let old: string | null = null;
  if (fs.existsSync(target)) {
    old = path.join(parent, `.${path.basename(target)}.old-${tag}`);
    fs.renameSync(target, old);
  }
  try {
    fs.renameSync(temp, target);
  } catch (err) {
    if (old) fs.renameSync(old, target);
    fs.rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  if (old) fs.rmSync(old, { recursive: true, force: true });
}
