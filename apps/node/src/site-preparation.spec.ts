import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpyFloat32 } from '@fedistill/data';
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

  it("with teachers.abstain: fits each teacher's gate on the reference set, logs and audits the setting; without it: no gates", async () => {
    const reference = Float32Array.from({ length: 8 * 3 }, (_, i) => (i * 7) % 5);
    fs.writeFileSync(path.join(dir, 'reference.npy'), encodeNpyFloat32([8, 3], reference));
    const abstaining = testNodeConfig(dir, {
      executionProvider: 'cpu',
      privacy: { epsilonLimit: 10 },
      teachers: { abstain: { fraction: 0.5 } },
    });
    const sut = new SitePreparation(abstaining, log);
    const site = await sut.prepare(local());
    try {
      const answers = site.abstention?.answers(reference, 8);
      expect(answers).toHaveLength(2);
      // Each teacher answers the half of the reference inputs nearest its own records (ties aside).
      for (const a of answers ?? []) expect(a.reduce((n, v) => n + v, 0)).toBeGreaterThanOrEqual(4);
      expect(logged.find((l) => l.msg === 'teachers ready')?.obj).toMatchObject({
        abstain: { fraction: 0.5 },
      });
      const entry = teachersAuditEntry(site, abstaining, 'fed', 1);
      expect(JSON.parse(entry.detail!)).toMatchObject({ abstain: { fraction: 0.5 } });
    } finally {
      await sut.dispose();
    }
    const plain = new SitePreparation(config(dir, 'cpu'), log);
    try {
      expect((await plain.prepare(local())).abstention).toBeNull();
    } finally {
      await plain.dispose();
    }
  });
});
