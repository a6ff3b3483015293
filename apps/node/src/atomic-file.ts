import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Replaces `file` with `text` so that a reader (or a crash) sees the old content or the new one,
 * never a mix: write a temporary file (mode 0600) and fsync it, rename it over `file`, then fsync
 * the directory so the rename itself is durable.
 */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}
