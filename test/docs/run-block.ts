import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DocBlock } from './doc-blocks';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'fedistill.js');

/**
 * A document's work folder: `fedistill` on PATH (the built bin/fedistill.js), and the
 * repository's `data/` and `examples/` linked in, so a block written for the repository root
 * ("from the repository root: fedistill data holdout data/breast_cancer.csv") runs as written.
 */
export class DocWorkspace {
  readonly dir: string;
  private readonly groups = new Set<number>();

  constructor(doc: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `fedistill-docs-${path.basename(doc, '.md')}-`));
    fs.mkdirSync(path.join(this.dir, '.bin'));
    const shim = path.join(this.dir, '.bin', 'fedistill');
    fs.writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    for (const linked of ['data', 'examples'])
      fs.symlinkSync(path.join(REPO, linked), path.join(this.dir, linked));
  }

  /** Writes a `file=` block. */
  write(block: DocBlock): void {
    const file = path.join(this.dir, block.marker.file as string);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, block.body);
  }

  /**
   * Runs shell text in the work folder (bash -e, its own process group so that whatever it
   * starts in the background is stopped by close()). With `ready`, the command is a service:
   * once its output matches, its process group gets SIGTERM and the run ends.
   */
  run(script: string, timeoutS: number, ready: RegExp | null = null): Promise<BlockResult> {
    const child = spawn('bash', ['-e', '-c', script], {
      cwd: this.dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${path.join(this.dir, '.bin')}:${process.env.PATH ?? ''}` },
    });
    if (child.pid) this.groups.add(child.pid);
    let output = '';
    let sawReady = false;
    let timedOut = false;
    const stop = () => signalGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutS * 1000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (ready && !sawReady && ready.test(output)) {
        sawReady = true;
        stop();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        // Background processes may still hold the pipes: give them a moment, do not wait for them.
        const done = () => resolve({ code, signal, output, timedOut, sawReady });
        const grace = setTimeout(done, 1000);
        child.once('close', () => {
          clearTimeout(grace);
          done();
        });
      });
    });
  }

  /** Stops every process group a block started (SIGTERM, then SIGKILL after 5 s), and removes the folder. */
  async close(keep: boolean): Promise<void> {
    for (const pgid of this.groups) signalGroup(pgid, 'SIGTERM');
    const until = Date.now() + 5000;
    while ([...this.groups].some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    for (const pgid of this.groups) signalGroup(pgid, 'SIGKILL');
    if (!keep) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface BlockResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly timedOut: boolean;
  readonly sawReady: boolean;
}

function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group has already exited.
  }
}

function alive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What is wrong with a run block's result against its marker, or null: the exit status, each
 * `expect`, each `floor`; for a service, that it became ready.
 */
export function judge(block: DocBlock, r: BlockResult): string | null {
  const m = block.marker;
  if (r.timedOut && !(m.service && r.sawReady)) return `did not finish within ${m.timeoutS} s`;
  if (m.service) {
    if (!r.sawReady) return `never printed /${m.ready?.source ?? ''}/ (exit ${r.code ?? r.signal})`;
  } else if (r.code !== m.exit) return `exit status ${r.code ?? r.signal}, the doc says ${m.exit}`;
  for (const e of m.expect) if (!e.test(r.output)) return `no output line matches /${e.source}/`;
  for (const f of m.floors) {
    const values = [...r.output.matchAll(f.pattern)].map((x) => Number(x[1]));
    if (values.length === 0) return `no output matches /${f.pattern.source}/`;
    const low = values.find((v) => !(v >= f.min));
    if (low !== undefined) return `/${f.pattern.source}/ gave ${low}, below the floor ${f.min}`;
  }
  return null;
}
