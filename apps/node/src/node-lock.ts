import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';

export const LOCK_FILE = 'node.lock';

/** Another live process holds the node directory. */
export class NodeLockedError extends Error {
  override readonly name = 'NodeLockedError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `node directory ${dir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.startedAt}): ` +
        `two processes on one node directory could each spend the privacy budget. Stop that process first` +
        ` (if it is gone, for instance on another host that shares this directory, remove ${path.join(dir, LOCK_FILE)})`,
    );
  }
}

/** What the lock file holds: who owns the directory. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /** Linux: the process's start time in clock ticks after boot (/proc/PID/stat field 22), to detect pid reuse. */
  readonly procStart?: string;
  /** Random, per acquisition: tells two holds of one process apart. */
  readonly token?: string;
}

/** An exclusive hold on a node directory; `release()` is idempotent. */
export interface NodeLock {
  readonly file: string;
  release(): void;
}

function procStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is parenthesised and may contain spaces: count from its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || typeof h.host !== 'string' || typeof h.startedAt !== 'string')
      return undefined;
    return h as LockHolder;
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder is certainly gone: same host, and its pid is dead (kill(pid, 0) fails with
 * ESRCH) or now belongs to a process that started at another time (pid reuse). A holder on
 * another host cannot be checked, so it counts as alive.
 */
function isStale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const now = procStart(h.pid);
  return h.procStart !== undefined && now !== undefined && now !== h.procStart;
}

function tryCreate(file: string, me: LockHolder): boolean {
  let fd: number;
  try {
    // O_CREAT | O_EXCL: exactly one process can create the file (Node has no flock).
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, `${JSON.stringify(me)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Moves a stale lock aside. The rename is atomic, so of two processes that both found it stale
 * only one moves it; the file moved is checked to be the stale one, and put back if another
 * process had already replaced it with a live lock in between.
 */
function breakStale(file: string, stale: LockHolder): void {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readHolder(aside);
  if (moved && (moved.pid !== stale.pid || moved.token !== stale.token)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // Someone created a new lock meanwhile: theirs stands.
    }
  }
  fs.rmSync(aside, { force: true });
}

/**
 * The locks this process holds, released by one 'exit' listener: a process may hold many (a
 * test or a tool that opens several node folders), and one listener per lock made Node warn about
 * a possible EventEmitter leak past ten (seen in CI's output).
 */
const held = new Set<() => void>();
let exitHook = false;
function releaseAtExit(release: () => void): void {
  held.add(release);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const r of [...held]) r();
  });
}

/**
 * Takes DIR/node.lock for this process, or throws NodeLockedError naming the directory and the
 * holding pid. A lock left by a dead process (kill -9, power loss) is taken over. Released by
 * `release()` and, as a last resort, when the process exits.
 */
export function acquireNodeLock(dir: string): NodeLock {
  const file = path.join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    procStart: procStart(process.pid),
    token: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(file, me)) break;
    const holder = readHolder(file);
    if (!holder) {
      // Being written by its creator right now, or damaged: look again before giving up.
      if (attempt < 20) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw new NodeLockedError(dir, { pid: -1, host: 'unknown', startedAt: 'unknown' });
    }
    if (!isStale(holder) || attempt >= 3) throw new NodeLockedError(dir, holder);
    breakStale(file, holder);
  }
  const release = (): void => {
    if (!held.delete(release)) return;
    // Only our own lock is removed: never one that another process took over.
    const current = readHolder(file);
    if (current?.token === me.token) fs.rmSync(file, { force: true });
  };
  releaseAtExit(release);
  return { file, release };
}
