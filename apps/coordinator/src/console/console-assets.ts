import * as fs from 'node:fs';
import * as path from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export interface ConsoleAsset {
  readonly type: string;
  readonly bytes: Buffer;
}

/**
 * The dashboard's built files (scripts/build-console.js writes them to dist/console), read once
 * into memory: only these names are ever served, so no request path reaches the file system.
 */
export class ConsoleAssets {
  private constructor(
    readonly dir: string,
    private readonly files: ReadonlyMap<string, ConsoleAsset>,
  ) {}

  /** Reads `dir`; an absent folder gives an empty set (the dashboard is not built). */
  static load(dir: string): ConsoleAssets {
    const files = new Map<string, ConsoleAsset>();
    if (fs.existsSync(dir))
      for (const name of fs.readdirSync(dir)) {
        const type = TYPES[path.extname(name)];
        const full = path.join(dir, name);
        if (type && fs.statSync(full).isFile()) files.set(name, { type, bytes: fs.readFileSync(full) });
      }
    return new ConsoleAssets(dir, files);
  }

  get built(): boolean {
    return this.files.has('index.html');
  }

  get(name: string): ConsoleAsset | undefined {
    return this.files.get(name);
  }
}

/** dist/console of the fedistill checkout this file runs from (source or dist/). */
export function defaultConsoleDir(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const { name } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'fedistill') return path.join(dir, 'dist', 'console');
    }
    if (path.dirname(dir) === dir) return path.join(from, 'console-not-found');
  }
}
