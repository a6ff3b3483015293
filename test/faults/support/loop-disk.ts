import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { stdio: 'pipe' }).toString();

/**
 * A small ext4 disk of its own (an image file on a loop device, mounted with
 * `errors=remount-ro`) for one process's directory, so that a fault case can fill exactly that
 * disk or turn it read-only under a running process, as a failing disk does in production.
 *
 * Read-only is ext4's emergency remount (`/sys/fs/ext4/<dev>/trigger_fs_error`, the path a disk
 * error takes with `errors=remount-ro`): every write fails with EROFS, through file descriptors
 * already open too. `mount -o remount,ro` of a tmpfs cannot do that: the kernel refuses it with
 * EBUSY while any file on it is open for writing (a SQLite database always is).
 *
 * Needs root, a loop device and mkfs.ext4; `LoopDisk.create` returns the reason when the machine
 * lacks one of them, so that a case can say it did not run.
 */
export class LoopDisk {
  private filler: string;

  private constructor(
    readonly image: string,
    readonly mountPoint: string,
    private device: string,
  ) {
    this.filler = path.join(mountPoint, 'filler');
  }

  /** Makes a `sizeMiB` ext4 image at `image` and mounts it (empty) at `mountPoint`; or says why not. */
  static create(image: string, mountPoint: string, sizeMiB = 64): LoopDisk | string {
    try {
      fs.mkdirSync(mountPoint, { recursive: true });
      fs.writeFileSync(image, '');
      fs.truncateSync(image, sizeMiB << 20);
      // -m 0: no blocks reserved for root, so "full" means full for the (root) processes too.
      run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
      const disk = new LoopDisk(image, mountPoint, '');
      disk.mount();
      if (!fs.existsSync(disk.trigger)) {
        disk.dispose();
        return `this kernel has no ${disk.trigger} to turn the disk read-only`;
      }
      return disk;
    } catch (err) {
      fs.rmSync(image, { force: true });
      const e = err as { stderr?: Buffer; message: string };
      return `could not make an ext4 loop disk (needs root, a loop device and mkfs.ext4): ${e.stderr?.toString().trim() || e.message}`;
    }
  }

  private get trigger(): string {
    return `/sys/fs/ext4/${path.basename(this.device)}/trigger_fs_error`;
  }

  private mount(): void {
    run('mount', ['-o', 'loop,errors=remount-ro', this.image, this.mountPoint]);
    this.device = run('findmnt', ['-n', '-o', 'SOURCE', this.mountPoint]).trim();
  }

  /** The mount options now (`ro`/`emergency_ro` once it failed). */
  options(): string {
    return run('findmnt', ['-n', '-o', 'OPTIONS', this.mountPoint]).trim();
  }

  /** Fills the disk to the last block with a filler file. */
  fill(): void {
    const chunk = Buffer.alloc(1 << 20);
    const fd = fs.openSync(this.filler, 'w');
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      fs.closeSync(fd);
    }
    try {
      for (;;) fs.appendFileSync(this.filler, chunk.subarray(0, 512));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
  }

  /** Removes the filler file. */
  free(): void {
    fs.rmSync(this.filler, { force: true });
  }

  /** Turns the mounted disk read-only at once (ext4's emergency remount after an error). */
  failReadOnly(): void {
    fs.writeFileSync(this.trigger, '1');
    if (!/\b(ro|emergency_ro)\b/.test(this.options()))
      throw new Error(`${this.mountPoint} is still writable after trigger_fs_error: ${this.options()}`);
  }

  /**
   * What an operator does once the disk is replaced or fixed: unmount (every process using it must
   * have stopped), `e2fsck -fy`, mount writable again. Returns e2fsck's exit status (0: clean,
   * 1: errors corrected).
   */
  repair(): number {
    run('umount', [this.mountPoint]);
    let fsck = 0;
    try {
      run('e2fsck', ['-f', '-y', this.image]);
    } catch (err) {
      fsck = (err as { status: number }).status;
      if (fsck > 1) throw err;
    }
    this.mount();
    return fsck;
  }

  /** Unmounts (lazily, so a failed case still cleans up) and deletes the image. */
  dispose(): void {
    try {
      run('umount', ['-l', this.mountPoint]);
    } catch {
      // not mounted
    }
    fs.rmSync(this.image, { force: true });
  }
}
