import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  exportTorchTeachers,
  NEEDS_TORCH,
  hasTorch,
} from '../../../libs/distill/test-support/torch-teachers';
import { loadNodeConfig, type NodeConfig } from './node-config';
import { testNodeConfig } from './testing/node-config';
import { federationSchema, loadSiteData, SiteDataError, siteTeachers } from './site-data';

/** CI installs python3-torch: there a missing torch fails these tests instead of skipping them. */
const torchRuns = hasTorch || Boolean(process.env.CI);
const withTorch = torchRuns ? it : it.skip;

const schema = federationSchema('fed', { labels: ['no', 'yes'], input: { shape: [3] } });

function config(dir: string, data: Partial<NonNullable<NodeConfig['data']>> | null): NodeConfig {
  return testNodeConfig(dir, {
    data: data === null ? null : { testFraction: 0.25, ...data },
    teachers: { epochs: 2, learningRate: 0.01, seed: 1 },
    privacy: { epsilonLimit: 1 },
  });
}

describe(loadSiteData.name, () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-site-data-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const csv = (name: string, rows: string[]) =>
    fs.writeFileSync(path.join(dir, name), `${rows.join('\n')}\n`);

  it("reads the site's CSV, holds out its test fraction, and trains teachers on the rest", async () => {
    csv('train.csv', [
      'a,b,c,label',
      ...Array.from({ length: 20 }, (_, i) => `${i},${i % 3},${-i},${i % 2}`),
    ]);
    const data = await loadSiteData(config(dir, {}), schema);
    expect(data.train.count).toBe(15);
    expect(data.test?.count).toBe(5);
    expect(data.train.featureShape).toEqual([3]);
    const teachers = await siteTeachers(config(dir, {}), schema, data);
    expect(teachers.size).toBe(2);
  });

  it('maps label names to the federation order when labelValues is name', async () => {
    csv('train.csv', ['a,b,c,label', '1,2,3,yes', '4,5,6,no', '7,8,9,yes', '1,1,1,no']);
    const data = await loadSiteData(config(dir, { labelValues: 'name', testFraction: 0 }), schema);
    expect([...data.train.labels]).toEqual([1, 0, 1, 0]);
    expect(data.test).toBeNull();
  });

  it('names the file and the mismatch when records do not fit the federation', async () => {
    csv('train.csv', ['a,b,label', '1,2,0', '3,4,1']);
    await expect(loadSiteData(config(dir, {}), schema)).rejects.toThrow(
      /train.csv has 2 features per record; federation 'fed' expects shape \[3\]/,
    );
    csv('train.csv', ['a,b,c,label', '1,2,3,0', '3,4,5,2']);
    await expect(loadSiteData(config(dir, { testFraction: 0 }), schema)).rejects.toThrow(/label|class/);
    await expect(loadSiteData(config(dir, { train: path.join(dir, 'missing.csv') }), schema)).rejects.toThrow(
      SiteDataError,
    );
    await expect(loadSiteData(config(dir, null), schema)).rejects.toThrow(/no data section/);
  });

  it('refuses more teachers than records, and a federation definition without labels', async () => {
    csv('train.csv', ['a,b,c,label', '1,2,3,0', '3,4,5,1']);
    const c = { ...config(dir, { testFraction: 0 }) };
    const data = await loadSiteData(c, schema);
    await expect(siteTeachers({ ...c, teachers: { ...c.teachers, count: 3 } }, schema, data)).rejects.toThrow(
      "teachers.count 3 is more than the site's 2 training records",
    );
    expect(() => federationSchema('x', { input: { shape: [3] } })).toThrow(/no label list/);
  });

  it("loads the site's own ONNX teachers, and names a teacher file that is missing, broken or of another shape", async () => {
    csv('train.csv', [
      'a,b,c,label',
      ...Array.from({ length: 12 }, (_, i) => `${i},${i % 3},${-i},${i % 2}`),
    ]);
    const c = config(dir, { testFraction: 0 });
    const data = await loadSiteData(c, schema);
    const trained = await siteTeachers(c, schema, data);
    fs.writeFileSync(path.join(dir, 'good.onnx'), trained.models[0]!);
    fs.writeFileSync(path.join(dir, 'broken.onnx'), 'not a model');
    const withOnnx = (files: string[]) => ({
      ...c,
      teachers: {
        ...c.teachers,
        onnx: files.map((f) => ({
          path: path.join(dir, f),
          input: undefined,
          output: undefined,
          outputKind: 'logits' as const,
        })),
      },
    });
    expect((await siteTeachers(withOnnx(['good.onnx', 'good.onnx']), schema, data)).size).toBe(2);
    await expect(siteTeachers(withOnnx(['missing.onnx']), schema, data)).rejects.toThrow(
      /teachers.onnx: .*missing.onnx does not exist/,
    );
    await expect(siteTeachers(withOnnx(['broken.onnx']), schema, data)).rejects.toThrow(
      /teachers.onnx: teacher model 0 \(.*broken.onnx\) cannot be opened/,
    );
    const threeClasses = federationSchema('fed', { labels: ['a', 'b', 'c'], input: { shape: [3] } });
    await expect(siteTeachers(withOnnx(['good.onnx']), threeClasses, data)).rejects.toThrow(
      /teachers.onnx: teacher model 0 \(.*good.onnx\) gives 2 outputs; the federation has 3 classes.*'input' float32 \[\w+, 3\]/,
    );
    const wider = federationSchema('fed', { labels: ['no', 'yes'], input: { shape: [5] } });
    await expect(siteTeachers(withOnnx(['good.onnx']), wider, data)).rejects.toThrow(
      /teacher model 0 \(.*good.onnx\) does not take inputs of shape \[N, 5\]/,
    );
  });

  withTorch(
    `answers with torch-exported teachers as node.yaml lists them, and tells the site how to name a model's output ${NEEDS_TORCH}`,
    async () => {
      csv('train.csv', ['a,b,c,label', '1,2,3,0', '3,4,5,1']);
      const golden = exportTorchTeachers(dir, 3, 2);
      const yaml = (teachers: string) =>
        fs.writeFileSync(
          path.join(dir, 'node.yaml'),
          `site: site-a\ncoordinator: h:1\ndata:\n  train: train.csv\n  labelColumn: label\n  testFraction: 0\nteachers:\n${teachers}`,
        );
      yaml(
        '  onnx:\n    - a.onnx\n    - { path: probs.onnx, outputKind: probabilities }\n' +
          '    - { path: two-outputs.onnx, input: x, output: scores }\n    - fixed1.onnx\n',
      );
      const c = loadNodeConfig(dir);
      const sut = await siteTeachers(c, schema, await loadSiteData(c, schema));
      try {
        const x = Float32Array.from(golden.x);
        const probs = await sut.probabilities(x, x.length / 3, 1);
        const diff = (got: Float32Array, want: number[]) =>
          Math.max(...want.map((w, i) => Math.abs(w - got[i]!)));
        expect(diff(probs[0]!, golden.models.a!.t1)).toBeLessThan(1e-5);
        expect(diff(probs[1]!, golden.models.probs!.t1)).toBeLessThan(1e-5);
        expect(diff(probs[2]!, golden.models['two-outputs']!.t1)).toBeLessThan(1e-5);
        expect(diff(probs[3]!, golden.models.fixed1!.t1)).toBeLessThan(1e-5);
      } finally {
        await sut.dispose();
      }
      yaml('  onnx: [a.onnx, two-outputs.onnx]\n');
      await expect(siteTeachers(loadNodeConfig(dir), schema, await loadSiteData(c, schema))).rejects.toThrow(
        new RegExp(
          "^teachers.onnx: teacher model 1 \\(.*two-outputs.onnx\\): the model has 2 outputs .*'scores' float32 \\[batch, 2\\], 'probs' float32 \\[batch, 2\\]\\); in node.yaml, write its entry as \\{ path: FILE, input: NAME, output: NAME \\} \\(federation 'fed'\\)$",
        ),
      );
    },
    120_000,
  );
});
