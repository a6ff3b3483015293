import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDevelopmentPki } from '@fedistill/pki';
import { initNode } from './init-node';
import { loadNodeConfig, NODE_FILES, NodeConfigError } from './node-config';

describe(initNode.name, () => {
  let root: string;
  let caFile: string;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-node-'));
    caFile = path.join(root, 'ca.crt');
    fs.writeFileSync(caFile, (await createDevelopmentPki()).caCertPem);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('creates keys (0600), the CA copy, a config that loads and the egress log', async () => {
    const dir = path.join(root, 'a');
    await initNode({ dir, coordinator: 'coord.example:7443', caFile, site: 'st-marys' });
    expect(fs.existsSync(path.join(dir, NODE_FILES.auditLog))).toBe(true);
    expect(fs.statSync(path.join(dir, NODE_FILES.keys)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, NODE_FILES.config)).mode & 0o777).toBe(0o600);
    const sut = loadNodeConfig(dir);
    expect(sut).toMatchObject({
      site: 'st-marys',
      coordinator: 'coord.example:7443',
      caFile: path.join(dir, 'ca.crt'),
    });
    expect(sut.reconnect).toEqual({ initialDelayMs: 500, maxDelayMs: 30_000 });
  });

  it('refuses to overwrite an existing node, and bad arguments', async () => {
    const dir = path.join(root, 'b');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-b' });
    await expect(initNode({ dir, coordinator: 'h:1', caFile, site: 'site-b' })).rejects.toThrow(
      /already holds a node/,
    );
    const c = path.join(root, 'c');
    await expect(initNode({ dir: c, coordinator: 'nohost', caFile, site: 'site-c' })).rejects.toThrow(
      "--coordinator 'nohost' must be HOST:PORT",
    );
    await expect(initNode({ dir: c, coordinator: 'h:1', caFile, site: 'Site C' })).rejects.toThrow(
      /--site 'Site C' is invalid/,
    );
    await expect(
      initNode({ dir: c, coordinator: 'h:1', caFile: path.join(root, 'nope'), site: 'site-c' }),
    ).rejects.toThrow(/cannot be read/);
    expect(fs.existsSync(path.join(root, 'c'))).toBe(false);
  });

  it('names the bad setting in a hand-edited node.yaml', async () => {
    const dir = path.join(root, 'd');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-d' });
    fs.writeFileSync(
      path.join(dir, NODE_FILES.config),
      'site: site-d\ncoordinator: 7443\nreconnect:\n  maxDelay: later\n',
    );
    expect(() => loadNodeConfig(dir)).toThrow(NodeConfigError);
    expect(() => loadNodeConfig(dir)).toThrow(/coordinator: Invalid input: expected string, received number/);
    fs.writeFileSync(
      path.join(dir, NODE_FILES.config),
      'site: site-d\ncoordinator: h:1\nreconnect:\n  maxDelay: later\n',
    );
    expect(() => loadNodeConfig(dir)).toThrow("reconnect.maxDelay: 'later' is not a duration");
    expect(() => loadNodeConfig(path.join(root, 'missing'))).toThrow(/run `fedistill node init/);
  });

  it('keeps freed heap only when performance.retainFreedHeap opts in', async () => {
    const dir = path.join(root, 'heap');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-h' });
    expect(loadNodeConfig(dir).retainFreedHeap).toBe(false);
    const file = path.join(dir, NODE_FILES.config);
    fs.writeFileSync(file, 'site: site-h\ncoordinator: h:1\nperformance:\n  retainFreedHeap: true\n');
    expect(loadNodeConfig(dir).retainFreedHeap).toBe(true);
    fs.writeFileSync(file, 'site: site-h\ncoordinator: h:1\nperformance:\n  retainFreedHeap: sometimes\n');
    expect(() => loadNodeConfig(dir)).toThrow(/performance\.retainFreedHeap/);
  });

  it('reads the data, teachers and privacy sections, and names what is wrong in them', async () => {
    const dir = path.join(root, 'e');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-e' });
    const base = 'site: site-e\ncoordinator: h:1\n';
    const write = (extra: string) => fs.writeFileSync(path.join(dir, NODE_FILES.config), base + extra);
    write('');
    expect(loadNodeConfig(dir)).toMatchObject({
      data: null,
      teachers: { count: 4, hidden: [32], perGraph: 64, onnx: undefined },
      executionProvider: 'cpu',
      privacy: { epsilonLimit: 8, delta: 1e-5, allowNonPrivate: false },
    });
    write(
      'data:\n  train: data/x.npy\n  labels: data/y.npy\nteachers:\n  onnx: [t/a.onnx]\nprivacy:\n  epsilonLimit: 3\n',
    );
    expect(loadNodeConfig(dir)).toMatchObject({
      data: {
        train: path.join(dir, 'data', 'x.npy'),
        labels: path.join(dir, 'data', 'y.npy'),
        format: 'npy',
      },
      teachers: {
        onnx: [
          { path: path.join(dir, 't', 'a.onnx'), input: undefined, output: undefined, outputKind: 'logits' },
        ],
      },
      privacy: { epsilonLimit: 3 },
    });
    write('data:\n  train: data/x.npy\n');
    expect(() => loadNodeConfig(dir)).toThrow('data.labels: required with format npy');
    write('data:\n  train: data/records.bin\n');
    expect(() => loadNodeConfig(dir)).toThrow(/data.format: cannot tell the format of data\/records.bin/);
    write('privacy:\n  epsilonLimit: -1\nteachers:\n  count: 0\nexecutionProvider: tpu\n');
    expect(() => loadNodeConfig(dir)).toThrow(/privacy.epsilonLimit/);
    expect(() => loadNodeConfig(dir)).toThrow(/teachers.count/);
    expect(() => loadNodeConfig(dir)).toThrow(/executionProvider/);
    write('teachers:\n  count: 1000\n  perGraph: 100\n');
    expect(loadNodeConfig(dir).teachers).toMatchObject({ count: 1000, perGraph: 100 });
    write('teachers:\n  count: 300\n  perGraph: 0\n');
    expect(() => loadNodeConfig(dir)).toThrow(/teachers.perGraph/);
  });

  it('reads teachers.onnx as paths or { path, input, output, outputKind }, with a default outputKind, and names a bad entry', async () => {
    const dir = path.join(root, 'onnx');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-o' });
    const write = (extra: string) =>
      fs.writeFileSync(path.join(dir, NODE_FILES.config), `site: site-o\ncoordinator: h:1\n${extra}`);
    write(
      'teachers:\n  outputKind: probabilities\n  onnx:\n    - a.onnx\n' +
        '    - { path: t/b.onnx, input: x, output: scores, outputKind: logits }\n    - { path: c.onnx, output: probs }\n',
    );
    expect(loadNodeConfig(dir).teachers.onnx).toEqual([
      { path: path.join(dir, 'a.onnx'), input: undefined, output: undefined, outputKind: 'probabilities' },
      { path: path.join(dir, 't', 'b.onnx'), input: 'x', output: 'scores', outputKind: 'logits' },
      { path: path.join(dir, 'c.onnx'), input: undefined, output: 'probs', outputKind: 'probabilities' },
    ]);
    expect(loadNodeConfig(dir).teachers).not.toHaveProperty('outputKind');
    write('teachers:\n  onnx: [a.onnx]\n');
    expect(loadNodeConfig(dir).teachers.onnx?.[0]?.outputKind).toBe('logits');
    write('teachers:\n  onnx:\n    - { path: a.onnx, outputKind: softmax }\n');
    expect(() => loadNodeConfig(dir)).toThrow(/teachers\.onnx\.0/);
    write('teachers:\n  onnx:\n    - { file: a.onnx }\n');
    expect(() => loadNodeConfig(dir)).toThrow(/teachers\.onnx\.0/);
    write('teachers:\n  outputKind: probabilities\n');
    expect(() => loadNodeConfig(dir)).toThrow(
      /teachers\.outputKind: applies to site-provided ONNX teachers only/,
    );
  });

  it('reads teachers.abstain (off when absent) and names a bad fraction or abstain with site-provided ONNX teachers', async () => {
    const dir = path.join(root, 'abstain');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-a' });
    const write = (extra: string) =>
      fs.writeFileSync(path.join(dir, NODE_FILES.config), `site: site-a\ncoordinator: h:1\n${extra}`);
    write('');
    expect(loadNodeConfig(dir).teachers.abstain).toBeUndefined();
    write('teachers:\n  abstain: {}\n');
    expect(loadNodeConfig(dir).teachers.abstain).toEqual({});
    write('teachers:\n  abstain: { fraction: 0.25 }\n');
    expect(loadNodeConfig(dir).teachers.abstain).toEqual({ fraction: 0.25 });
    for (const [bad, message] of [
      ['0', /teachers\.abstain\.fraction: must be > 0/],
      ['1.5', /teachers\.abstain\.fraction: must be <= 1/],
      ['some', /teachers\.abstain\.fraction/],
    ] as const) {
      write(`teachers:\n  abstain: { fraction: ${bad} }\n`);
      expect(() => loadNodeConfig(dir)).toThrow(message);
    }
    write('teachers:\n  abstain: { share: 0.5 }\n');
    expect(() => loadNodeConfig(dir)).toThrow(/teachers\.abstain/);
    write('teachers:\n  abstain: {}\n  onnx: [a.onnx]\n');
    expect(() => loadNodeConfig(dir)).toThrow(/teachers\.abstain: applies to teachers trained here only/);
  });

  it('counts only its own noise share unless privacy.assumedColluders says whom it trusts, and names a bad trust setting', async () => {
    const dir = path.join(root, 'trust');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-t' });
    const write = (extra: string) =>
      fs.writeFileSync(path.join(dir, NODE_FILES.config), `site: site-t\ncoordinator: h:1\n${extra}`);
    write('');
    expect(loadNodeConfig(dir).privacy.trust).toEqual({ kind: 'paranoid' });
    write('privacy:\n  trust: paranoid\n');
    expect(loadNodeConfig(dir).privacy.trust).toEqual({ kind: 'paranoid' });
    write('privacy:\n  assumedColluders: 2\n');
    expect(loadNodeConfig(dir).privacy.trust).toEqual({ kind: 'colluders', colluders: 2 });
    write('privacy:\n  trust: colluders\n  assumedColluders: 0\n');
    expect(loadNodeConfig(dir).privacy.trust).toEqual({ kind: 'colluders', colluders: 0 });
    write('privacy:\n  trust: colluders\n');
    expect(() => loadNodeConfig(dir)).toThrow(
      "privacy.assumedColluders: is required with privacy.trust 'colluders'",
    );
    write('privacy:\n  trust: paranoid\n  assumedColluders: 1\n');
    expect(() => loadNodeConfig(dir)).toThrow(
      "privacy.assumedColluders: conflicts with privacy.trust 'paranoid'",
    );
    for (const bad of ['-1', '1.5', 'many']) {
      write(`privacy:\n  assumedColluders: ${bad}\n`);
      expect(() => loadNodeConfig(dir)).toThrow(/privacy\.assumedColluders: /);
    }
    write('privacy:\n  trust: everyone\n');
    expect(() => loadNodeConfig(dir)).toThrow(/privacy\.trust: /);
  });

  it('sets the smallest round a site joins (security), written by init, and refuses a threshold of 1', async () => {
    const dir = path.join(root, 'security');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-s' });
    expect(loadNodeConfig(dir).security).toEqual({ minParticipants: 3, minThreshold: 2 });
    expect(fs.readFileSync(path.join(dir, NODE_FILES.config), 'utf8')).toMatch(/minParticipants: 3/);
    fs.writeFileSync(
      path.join(dir, NODE_FILES.config),
      'site: site-s\ncoordinator: h:1\nsecurity:\n  minParticipants: 1\n  minThreshold: 1\n',
    );
    expect(() => loadNodeConfig(dir)).toThrow(/security\.minParticipants: .*\n.*security\.minThreshold: /);
  });

  it('reads a dropout drill for every round or for listed rounds only, and names a bad one', async () => {
    const dir = path.join(root, 'drill');
    await initNode({ dir, coordinator: 'h:1', caFile, site: 'site-d' });
    const write = (extra: string) =>
      fs.writeFileSync(path.join(dir, NODE_FILES.config), `site: site-d\ncoordinator: h:1\n${extra}`);
    write('');
    expect(loadNodeConfig(dir)).toMatchObject({ drillStopAfter: undefined });
    expect(loadNodeConfig(dir).drillRounds).toBeUndefined();
    write('drill:\n  stopAfter: shares\n');
    expect(loadNodeConfig(dir)).toMatchObject({ drillStopAfter: 'shares' });
    expect(loadNodeConfig(dir).drillRounds).toBeUndefined();
    write('drill:\n  stopAfter: input\n  rounds: [2, 5]\n');
    expect(loadNodeConfig(dir)).toMatchObject({ drillStopAfter: 'input', drillRounds: [2, 5] });
    for (const bad of ['[]', '[0]', '[1.5]', 'two']) {
      write(`drill:\n  stopAfter: input\n  rounds: ${bad}\n`);
      expect(() => loadNodeConfig(dir)).toThrow(/drill\.rounds/);
    }
    write('drill:\n  stopAfter: unmask\n');
    expect(() => loadNodeConfig(dir)).toThrow(/drill\.stopAfter/);
  });
});
