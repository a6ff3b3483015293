import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeConfig } from './node-config';
import { federationSchema, loadSiteData, SiteDataError, siteTeachers } from './site-data';

const schema = federationSchema('fed', { labels: ['no', 'yes'], input: { shape: [3] } });

function config(dir: string, data: Partial<NonNullable<NodeConfig['data']>> | null): NodeConfig {
  return {
    dir,
    site: 'site-a',
    coordinator: 'h:1',
    caFile: '',
    serverName: undefined,
    reconnect: { initialDelayMs: 1, maxDelayMs: 1 },
    anchorIntervalMs: 1000,
    retainFreedHeap: false,
    logLevel: 'silent',
    data:
      data === null
        ? null
        : {
            train: path.join(dir, 'train.csv'),
            labels: undefined,
            format: 'csv',
            labelColumn: 'label',
            header: true,
            labelValues: 'index',
            test: undefined,
            testLabels: undefined,
            testFraction: 0.25,
            seed: 1,
            ...data,
          },
    teachers: {
      count: 2,
      hidden: [4],
      epochs: 2,
      batchSize: 4,
      learningRate: 0.01,
      seed: 1,
      onnx: undefined,
    },
    executionProvider: 'cpu',
    privacy: { epsilonLimit: 1, delta: 1e-5, allowNonPrivate: false, trust: { kind: 'paranoid' } },
    security: { minParticipants: 3, minThreshold: 2 },
    drillStopAfter: undefined,
  };
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
      teachers: { ...c.teachers, onnx: files.map((f) => path.join(dir, f)) },
    });
    expect((await siteTeachers(withOnnx(['good.onnx', 'good.onnx']), schema, data)).size).toBe(2);
    await expect(siteTeachers(withOnnx(['missing.onnx']), schema, data)).rejects.toThrow(
      /teachers.onnx: .*missing.onnx does not exist/,
    );
    await expect(siteTeachers(withOnnx(['broken.onnx']), schema, data)).rejects.toThrow(
      /teacher model 0 cannot be opened/,
    );
    const threeClasses = federationSchema('fed', { labels: ['a', 'b', 'c'], input: { shape: [3] } });
    await expect(siteTeachers(withOnnx(['good.onnx']), threeClasses, data)).rejects.toThrow(
      'teacher model 0 gives 2 outputs; the federation has 3 classes',
    );
    const wider = federationSchema('fed', { labels: ['no', 'yes'], input: { shape: [5] } });
    await expect(siteTeachers(withOnnx(['good.onnx']), wider, data)).rejects.toThrow(
      /teacher model 0 does not take inputs of shape \[N, 5\]/,
    );
  });
});
