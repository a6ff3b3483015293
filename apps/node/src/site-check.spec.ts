import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { loadNodeConfig } from './node-config';
import { checkSiteFiles } from './site-check';

/** 40 records of three features and an `outcome` label (0 or 1). */
function writeRecords(file: string): void {
  const rows = Array.from({ length: 40 }, (_, i) => `${i},${(i * 7) % 5},${i % 3},${i % 2}`);
  fs.writeFileSync(file, ['age,size,grade,outcome', ...rows].join('\n') + '\n');
}

describe(checkSiteFiles.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-site-check-'));
    writeRecords(path.join(dir, 'records.csv'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const sut = async (settings: Record<string, unknown>) => {
    fs.writeFileSync(
      path.join(dir, 'node.yaml'),
      stringify({ site: 'st-marys', coordinator: 'coord.example.org:7443', ...settings }),
    );
    return checkSiteFiles(loadNodeConfig(dir));
  };
  const data = { train: 'records.csv', labelColumn: 'outcome', testFraction: 0.25 };

  it('passes records that load as node.yaml describes them, with enough of them for the teachers', async () => {
    const checks = await sut({ data, teachers: { count: 3 } });
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['data', 'ok'],
      ['teachers', 'ok'],
    ]);
    // 40 records, a quarter held out for the site's own test split.
    expect(checks[1]?.reason).toBe('3 teachers on 30 training records (10 each)');
  });

  it('fails a wrong label column, naming it and the columns there are, before any federation is known', async () => {
    const checks = await sut({ data: { ...data, labelColumn: 'diagnosis' } });
    expect(checks[0]).toEqual({
      name: 'data',
      status: 'fail',
      reason: expect.stringContaining(
        "label column 'diagnosis' not found in columns age, size, grade, outcome",
      ),
    });
  });

  it('fails more teachers than training records, and ONNX teachers whose files are missing', async () => {
    const many = await sut({ data, teachers: { count: 31 } });
    expect(many.find((c) => c.name === 'teachers')).toEqual({
      name: 'teachers',
      status: 'fail',
      reason: "teachers.count 31 is more than the site's 30 training records",
    });
    const onnx = await sut({ data, teachers: { onnx: ['teachers/a.onnx'] } });
    expect(onnx.find((c) => c.name === 'teachers')).toEqual({
      name: 'teachers',
      status: 'fail',
      reason: `teachers.onnx: ${path.join(dir, 'teachers', 'a.onnx')} does not exist`,
    });
  });

  it('checks the records against each federation the node holds: another input shape fails, naming the federation', async () => {
    const keep = (id: string, shape: number[]) => {
      fs.mkdirSync(path.join(dir, 'federations', id), { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'federations', id, 'federation.json'),
        JSON.stringify({ spec: { labels: ['no', 'yes'], input: { shape } }, members: [] }),
      );
    };
    keep('cancer', [3]);
    keep('images', [28, 28]);
    const checks = await sut({ data, teachers: { count: 2 } });
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['data:cancer', 'ok'],
      ['data:images', 'fail'],
      ['teachers:cancer', 'ok'],
    ]);
    expect(checks[1]?.reason).toMatch(
      /has 3 features per record; federation 'images' expects shape \[28, 28\] \(784\)/,
    );
  });

  it('warns, and does not fail, when node.yaml has no data section', async () => {
    const checks = await sut({});
    expect(checks).toEqual([expect.objectContaining({ name: 'data', status: 'warn' })]);
  });
});
