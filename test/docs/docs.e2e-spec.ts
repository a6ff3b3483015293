/**
 * The docs test: every fenced block of README.md and docs/*.md, as written. Shell blocks run in
 * a fresh work folder per document (in document order, `fedistill` on PATH, whatever they start
 * in the background stopped at the end), configuration blocks are written to the file their
 * marker names before the document's first block runs, and each block's documented outcome is
 * checked. Markers (an HTML comment above each fence) are described in doc-blocks.ts; blocks
 * marked skip are counted and listed with their reasons. A document added to docs/ is picked up
 * on the next run, and an unmarked block in it fails the test.
 * FEDISTILL_DOCS_KEEP=1 keeps the work folders (their paths are printed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DocBlock, parseDocBlocks } from './doc-blocks';
import { DocWorkspace, judge } from './run-block';

const REPO = path.resolve(__dirname, '..', '..');
const DOCS = [
  'README.md',
  ...fs
    .readdirSync(path.join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const skipped: string[] = [];

const tail = (s: string) => (s.length > 3000 ? `...${s.slice(-3000)}` : s);

async function runDoc(doc: string, blocks: DocBlock[]): Promise<void> {
  const runnable = blocks.filter((b) => b.marker.kind === 'run' || b.marker.kind === 'file');
  const keep = process.env.FEDISTILL_DOCS_KEEP === '1';
  if (runnable.length === 0) return;
  const ws = new DocWorkspace(doc);
  if (keep) process.stdout.write(`${doc}: work folder ${ws.dir}\n`);
  let failed = true;
  const keepFailed = () => keep || process.env.CI === undefined;
  try {
    const files = new Map<string, DocBlock>();
    for (const b of blocks.filter((x) => x.marker.kind === 'file')) {
      const earlier = files.get(b.marker.file as string);
      if (earlier)
        throw new Error(`${doc}:${b.line}: file=${b.marker.file} is also written by line ${earlier.line}`);
      files.set(b.marker.file as string, b);
      if (b.marker.sameAs !== null) {
        const original = fs.readFileSync(path.join(REPO, b.marker.sameAs), 'utf8');
        if (original !== b.body)
          throw new Error(
            `${doc}:${b.line}: the block differs from ${b.marker.sameAs}; copy the file into the doc`,
          );
      }
      ws.write(b);
    }
    for (const b of runnable) {
      const m = b.marker;
      const script = m.kind === 'run' ? b.body : m.check;
      if (script === null) continue;
      const r = await ws.run(script, m.timeoutS, m.ready);
      const wrong =
        m.kind === 'run'
          ? judge(b, r)
          : r.code === 0
            ? null
            : `check \`${script}\` exited ${r.code ?? r.signal}`;
      if (wrong) throw new Error(`${doc}:${b.line}: ${wrong}\n--- output ---\n${tail(r.output)}`);
      for (const f of m.floors)
        process.stdout.write(
          `${doc}:${b.line}: /${f.pattern.source}/ gave ${[...r.output.matchAll(f.pattern)].map((x) => x[1]).join(', ')} (floor ${f.min})\n`,
        );
    }
    failed = false;
  } finally {
    await ws.close(keep || (failed && keepFailed()));
    if (failed && keepFailed()) process.stderr.write(`${doc}: work folder kept for a look: ${ws.dir}\n`);
  }
}

describe('documentation', () => {
  const parsed = new Map<string, DocBlock[]>();

  it('marks every fenced block of README.md and docs/*.md', () => {
    const problems: string[] = [];
    for (const doc of DOCS) {
      try {
        parsed.set(doc, parseDocBlocks(fs.readFileSync(path.join(REPO, doc), 'utf8'), doc));
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    expect(problems).toEqual([]);
  });

  for (const doc of DOCS) {
    // Generous: the federation walkthrough takes about a minute on a loaded 2-core machine.
    it(`${doc}: every command and configuration block runs as written`, async () => {
      // Parsed again, so that `-t docs/federations.md` runs one document alone.
      const blocks = parseDocBlocks(fs.readFileSync(path.join(REPO, doc), 'utf8'), doc);
      for (const b of blocks.filter((x) => x.marker.kind === 'skip'))
        skipped.push(`${doc}:${b.line} (${b.info || 'text'}): ${b.marker.reason ?? ''}`);
      await runDoc(doc, blocks);
    }, 600_000);
  }

  afterAll(() => {
    const all = [...parsed.values()].flat();
    const count = (k: string) => all.filter((b) => b.marker.kind === k).length;
    process.stdout.write(
      `docs test: ${all.length} blocks in ${parsed.size} documents: ${count('run')} run, ${count('file')} files, ` +
        `${count('output')} output samples, ${count('diagram')} diagrams, ${skipped.length} skipped:\n` +
        skipped.map((s) => `  ${s}`).join('\n') +
        '\n',
    );
  });
});
