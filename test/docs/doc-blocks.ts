/**
 * The fenced blocks of a Markdown document and the docs-test marker each one carries.
 *
 * Convention (docs/README of the test: test/docs/docs.e2e-spec.ts). The nearest non-blank line
 * above every fence is an HTML comment the reader of the rendered page does not see:
 *
 *   <!-- docs-test: run [expect="REGEX"]... [floor="REGEX >= N"]... [exit=N] [timeout=S] -->
 *   <!-- docs-test: run service ready="REGEX" [timeout=S] -->
 *   <!-- docs-test: file=NAME [check="COMMAND"] [same-as=REPO_PATH] -->
 *   <!-- docs-test: output -->       a sample of what a command prints
 *   <!-- docs-test: diagram -->      a picture, a listing or a sample of a file; nothing to run
 *   <!-- docs-test: skip reason="why it cannot run here (or: covered by <test>)" -->
 *
 * A block without a marker, or with a marker this file does not know, is an error: a new
 * document cannot slip a block past the test.
 */

export type MarkerKind = 'run' | 'file' | 'output' | 'diagram' | 'skip';

export interface Marker {
  readonly kind: MarkerKind;
  /** run: the exit status expected (default 0). */
  readonly exit: number;
  /** run: regular expressions each of which must match the block's output (stdout and stderr). */
  readonly expect: readonly RegExp[];
  /** run: every match of the pattern's one capture group must be a number >= the floor. */
  readonly floors: readonly { readonly pattern: RegExp; readonly min: number }[];
  /** run: seconds the block may take (default 60). */
  readonly timeoutS: number;
  /** run service: a long-running command, stopped with SIGTERM once its output matches `ready`. */
  readonly service: boolean;
  readonly ready: RegExp | null;
  /** file: where the block is written, relative to the document's work folder. */
  readonly file: string | null;
  /** file: a command run after the file is written, which must exit 0. */
  readonly check: string | null;
  /** file: a repository file the block must equal. */
  readonly sameAs: string | null;
  /** skip: why. */
  readonly reason: string | null;
}

export interface DocBlock {
  /** The document, as given to parseDocBlocks (a path relative to the repository). */
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's info string (`sh`, `yaml`, ...). */
  readonly info: string;
  /** The block's text, its indentation removed, ending with a newline. */
  readonly body: string;
  readonly marker: Marker;
}

/** A block without a marker, an unknown marker, a bad attribute, an unclosed fence. */
export class DocMarkerError extends Error {
  override readonly name = 'DocMarkerError';
}

const MARKER = /^<!--\s*docs-test:(.*?)-->$/;
const ATTRIBUTE = /([a-z][a-z-]*)(?:=("(?:[^"\\]|\\.)*"|\S+))?/g;
const ALLOWED: Record<MarkerKind, readonly string[]> = {
  run: ['run', 'expect', 'floor', 'exit', 'timeout', 'service', 'ready'],
  file: ['file', 'check', 'same-as'],
  output: ['output'],
  diagram: ['diagram'],
  skip: ['skip', 'reason'],
};

/** A quoted value loses its quotes; only \" is unescaped, so a regex keeps its own escapes (\( ...). */
function unquote(v: string): string {
  return v.startsWith('"') ? v.slice(1, -1).replace(/\\"/g, '"') : v;
}

function regex(source: string, where: string): RegExp {
  try {
    return new RegExp(source, 'm');
  } catch (err) {
    throw new DocMarkerError(`${where}: bad regular expression /${source}/: ${(err as Error).message}`);
  }
}

/** Parses the text of one marker comment (`run expect="..."`); `where` names it in errors. */
export function parseMarker(text: string, where: string): Marker {
  const attrs: Array<[string, string | undefined]> = [];
  for (const m of text.trim().matchAll(ATTRIBUTE)) attrs.push([m[1] as string, m[2] && unquote(m[2])]);
  const first = attrs[0]?.[0];
  const kind = (Object.keys(ALLOWED) as MarkerKind[]).find((k) => k === first);
  if (!kind)
    throw new DocMarkerError(
      `${where}: unknown docs-test marker '${text.trim()}' (run, file=NAME, output, diagram or skip reason="...")`,
    );
  const one = (name: string): string | undefined => {
    const found = attrs.filter(([k]) => k === name);
    if (found.length > 1) throw new DocMarkerError(`${where}: '${name}' given twice`);
    return found[0]?.[1];
  };
  for (const [k] of attrs)
    if (!ALLOWED[kind].includes(k))
      throw new DocMarkerError(`${where}: '${k}' does not apply to a '${kind}' block`);
  const number = (name: string, fallback: number): number => {
    const raw = one(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw new DocMarkerError(`${where}: ${name}=${raw} is not an integer >= 0`);
    return n;
  };
  const floors = attrs
    .filter(([k]) => k === 'floor')
    .map(([, v]) => {
      const m = /^(.*\S)\s+>=\s+(-?[0-9.]+)$/.exec(v ?? '');
      if (!m) throw new DocMarkerError(`${where}: floor="${v ?? ''}" is not "REGEX >= NUMBER"`);
      const pattern = regex(m[1] as string, where);
      if (new RegExp(`${pattern.source}|`).exec('')?.length !== 2)
        throw new DocMarkerError(`${where}: floor /${pattern.source}/ needs exactly one capture group`);
      return { pattern: new RegExp(pattern.source, 'gm'), min: Number(m[2]) };
    });
  const service = attrs.some(([k]) => k === 'service');
  const ready = one('ready');
  if (service !== (ready !== undefined))
    throw new DocMarkerError(`${where}: 'service' and ready="REGEX" go together`);
  const file = kind === 'file' ? one('file') : undefined;
  if (kind === 'file' && (!file || file.startsWith('/') || file.split('/').includes('..')))
    throw new DocMarkerError(`${where}: file=NAME needs a relative name inside the work folder`);
  const reason = one('reason');
  if (kind === 'skip' && !reason?.trim()) throw new DocMarkerError(`${where}: skip needs reason="..."`);
  return {
    kind,
    exit: number('exit', 0),
    expect: attrs.filter(([k]) => k === 'expect').map(([, v]) => regex(v ?? '', where)),
    floors,
    timeoutS: number('timeout', 60),
    service,
    ready: ready === undefined ? null : regex(ready, where),
    file: file ?? null,
    check: one('check') ?? null,
    sameAs: one('same-as') ?? null,
    reason: reason ?? null,
  };
}

/** Every fenced block of `text` with its marker; throws DocMarkerError naming doc:line otherwise. */
export function parseDocBlocks(text: string, doc: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const [, indent = '', fence = '```', info = ''] = open;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !(lines[i] as string).trim().startsWith(fence); i += 1)
      body.push(
        (lines[i] as string).startsWith(indent)
          ? (lines[i] as string).slice(indent.length)
          : (lines[i] as string),
      );
    if (i >= lines.length) throw new DocMarkerError(`${doc}:${start + 1}: fence never closed`);
    let above = start - 1;
    while (above >= 0 && (lines[above] as string).trim() === '') above -= 1;
    const where = `${doc}:${start + 1}`;
    const comment = MARKER.exec((lines[above] ?? '').trim());
    if (!comment)
      throw new DocMarkerError(
        `${where}: the \`\`\`${info.trim()} block has no docs-test marker on the line above it (test/docs/doc-blocks.ts says which)`,
      );
    blocks.push({
      doc,
      line: start + 1,
      info: info.trim(),
      body: `${body.join('\n')}\n`,
      marker: parseMarker(comment[1] as string, where),
    });
  }
  return blocks;
}
