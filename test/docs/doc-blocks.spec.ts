import { DocMarkerError, parseDocBlocks, parseMarker } from './doc-blocks';
import { judge } from './run-block';

const doc = (...lines: string[]) => lines.join('\n');

describe(parseDocBlocks.name, () => {
  it('reads each block with the marker on the nearest non-blank line above it', () => {
    const sut = parseDocBlocks(
      doc(
        '# Title',
        '<!-- docs-test: run expect="wrote 3 sites" timeout=90 -->',
        '',
        '```sh',
        'fedistill data split x.csv --sites 3 --out sites',
        '```',
        'Then:',
        '<!-- docs-test: file=conf/node.yaml check="fedistill node check --dir conf" -->',
        '   ```yaml',
        '   site: a',
        '   ```',
      ),
      'docs/x.md',
    );
    expect(sut.map((b) => [b.line, b.info, b.marker.kind])).toEqual([
      [4, 'sh', 'run'],
      [9, 'yaml', 'file'],
    ]);
    expect(sut[0]?.body).toBe('fedistill data split x.csv --sites 3 --out sites\n');
    expect(sut[0]?.marker.timeoutS).toBe(90);
    expect(sut[0]?.marker.expect[0]?.test('wrote 3 sites to /tmp/s')).toBe(true);
    expect(sut[1]?.body).toBe('site: a\n');
    expect(sut[1]?.marker.file).toBe('conf/node.yaml');
    expect(sut[1]?.marker.check).toBe('fedistill node check --dir conf');
  });

  it('refuses a block without a marker, naming the document and line, so a new doc cannot slip through', () => {
    expect(() => parseDocBlocks(doc('Some text', '```sh', 'rm -rf /', '```'), 'docs/new.md')).toThrow(
      new DocMarkerError(
        'docs/new.md:2: the ```sh block has no docs-test marker on the line above it (test/docs/doc-blocks.ts says which)',
      ),
    );
  });

  it('refuses a fence that is never closed', () => {
    expect(() => parseDocBlocks(doc('<!-- docs-test: output -->', '```', 'text'), 'a.md')).toThrow(
      'a.md:2: fence never closed',
    );
  });
});

describe(parseMarker.name, () => {
  it.each([
    ['frobnicate', "unknown docs-test marker 'frobnicate'"],
    ['skip', 'skip needs reason="..."'],
    ['output expect="x"', "'expect' does not apply to a 'output' block"],
    ['file=/etc/passwd', 'file=NAME needs a relative name inside the work folder'],
    ['file=../x.yaml', 'file=NAME needs a relative name inside the work folder'],
    ['run service', `'service' and ready="REGEX" go together`],
    ['run exit=two', 'exit=two is not an integer >= 0'],
    ['run timeout=5 timeout=6', "'timeout' given twice"],
    ['run floor="accuracy [0-9.]+ >= 0.8"', 'needs exactly one capture group'],
    ['run floor="accuracy ([0-9.]+)"', 'is not "REGEX >= NUMBER"'],
    ['run expect="("', 'bad regular expression'],
  ])('refuses `%s`', (text, message) => {
    expect(() => parseMarker(text, 'd.md:1')).toThrow(message);
  });

  it('keeps a regular expression\'s own escapes, unescaping only \\"', () => {
    const sut = parseMarker('run expect="3 sites \\(a, b\\)" expect="say \\"hi\\""', 'd.md:1');
    expect(sut.expect.map((e) => e.source)).toEqual(['3 sites \\(a, b\\)', 'say "hi"']);
    expect(sut.expect[0]?.test('added: 3 sites (a, b)')).toBe(true);
  });

  it('reads a floor: every match of its capture group must reach the number', () => {
    const marker = parseMarker('run floor="accuracy ([0-9.]+) on 100 >= 0.8"', 'd.md:1');
    const block = { doc: 'd.md', line: 1, info: 'sh', body: '', marker };
    const result = (output: string) => ({ code: 0, signal: null, output, timedOut: false, sawReady: false });
    expect(judge(block, result('v1 accuracy 0.9400 on 100\nv2 accuracy 0.9500 on 100'))).toBeNull();
    expect(judge(block, result('v1 accuracy 0.9400 on 100\nv2 accuracy 0.6000 on 100'))).toBe(
      '/accuracy ([0-9.]+) on 100/ gave 0.6, below the floor 0.8',
    );
    expect(judge(block, result('no students'))).toBe('no output matches /accuracy ([0-9.]+) on 100/');
    expect(judge(block, { ...result('accuracy 0.9 on 100'), code: 1 })).toBe('exit status 1, the doc says 0');
  });

  it('judges a service by its ready line, not by how it stopped', () => {
    const marker = parseMarker('run service ready="coordinator ready"', 'd.md:1');
    const block = { doc: 'd.md', line: 1, info: 'sh', body: '', marker };
    const stopped = { code: null, signal: 'SIGTERM' as const, timedOut: false };
    expect(judge(block, { ...stopped, output: '{"msg":"coordinator ready"}', sawReady: true })).toBeNull();
    expect(judge(block, { ...stopped, code: 1, signal: null, output: 'EADDRINUSE', sawReady: false })).toBe(
      'never printed /coordinator ready/ (exit 1)',
    );
  });
});
