import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalFederation } from './federation-sync';
import type { NodeConfig } from './node-config';
import { testNodeConfig } from './testing/node-config';
import type { SessionLogger } from './node-session';
import { SitePreparation, teachersAuditEntry } from './site-preparation';

function config(dir: string, executionProvider: NodeConfig['executionProvider']): NodeConfig {
  return testNodeConfig(dir, { executionProvider, privacy: { epsilonLimit: 10 } });
}

describe(SitePreparation.name, () => {
  let dir: string;
  let logged: { level: string; obj: object; msg: string }[];
  const log: SessionLogger = {
    info: (obj, msg) => logged.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => logged.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => logged.push({ level: 'error', obj, msg }),
  };
  const local = (): LocalFederation => ({
    id: 'fed',
    spec: { labels: ['no', 'yes'], input: { shape: [3] } },
    members: [],
    referenceFile: path.join(dir, 'reference.npy'),
    referenceSha256: 'a'.repeat(64),
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-prepare-'));
    logged = [];
    const rows = Array.from({ length: 12 }, (_, i) => `${i % 3},${i % 5},${i % 2},${i % 2}`);
    fs.writeFileSync(path.join(dir, 'train.csv'), `a,b,c,label\n${rows.join('\n')}\n`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('with executionProvider auto on a machine without GPU providers: trains on cpu, logs and audits why', async () => {
    const sut = new SitePreparation(config(dir, 'auto'), log);
    const site = await sut.prepare(local());
    try {
      expect(site.provider).toMatchObject({ requested: 'auto', provider: 'cpu' });
      expect(site.provider.refused.map((r) => r.provider)).toEqual(['cuda', 'webgpu']);
      const warning = logged.find((l) => l.level === 'warn');
      expect(warning?.msg).toBe(
        'execution provider auto: no GPU provider passed the probe; teachers train on cpu',
      );
      expect(warning?.obj).toMatchObject({
        federation: 'fed',
        provider: 'cpu',
        refused: {
          cuda: expect.stringMatching(/libonnxruntime_providers_shared\.so/),
          webgpu: expect.any(String),
        },
      });
      expect(logged.find((l) => l.msg === 'teachers ready')?.obj).toMatchObject({
        provider: 'cpu',
        teachers: 2,
        perGraph: 64,
        ms: expect.any(Number),
      });

      const entry = teachersAuditEntry(site, config(dir, 'auto'), 'fed', 3);
      expect(entry).toMatchObject({ event: 'round', federation: 'fed', round: '3', kind: 'Teachers/Ready' });
      expect(JSON.parse(entry.detail!)).toEqual({
        teachers: 2,
        source: 'trained',
        perGraph: 64,
        executionProvider: 'auto',
        provider: 'cpu',
        refused: {
          cuda: expect.stringMatching(/^ONNX Runtime 1\.30\.0 looked for its CUDA provider in /),
          webgpu: expect.stringMatching(/^the Vulkan loader /),
        },
        ms: site.trainingMs,
      });
    } finally {
      await sut.dispose();
    }
  });

  it('refuses to prepare when node.yaml names cuda and it does not load, saying what is missing', async () => {
    const sut = new SitePreparation(config(dir, 'cuda'), log);
    await expect(sut.prepare(local())).rejects.toThrow(
      /^execution provider 'cuda' is unavailable: ONNX Runtime 1\.30\.0 looked for its CUDA provider in .*docs\/gpu\.md$/,
    );
  });
});
