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

  it('creates keys (0600), the CA copy and a config that loads', () => {
    const dir = path.join(root, 'a');
    initNode({ dir, coordinator: 'coord.example:7443', caFile, site: 'st-marys' });
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

  it('refuses to overwrite an existing node, and bad arguments', () => {
    const dir = path.join(root, 'b');
    initNode({ dir, coordinator: 'h:1', caFile, site: 'site-b' });
    expect(() => initNode({ dir, coordinator: 'h:1', caFile, site: 'site-b' })).toThrow(
      /already holds a node/,
    );
    expect(() =>
      initNode({ dir: path.join(root, 'c'), coordinator: 'nohost', caFile, site: 'site-c' }),
    ).toThrow("--coordinator 'nohost' must be HOST:PORT");
    expect(() => initNode({ dir: path.join(root, 'c'), coordinator: 'h:1', caFile, site: 'Site C' })).toThrow(
      /--site 'Site C' is invalid/,
    );
    expect(() =>
      initNode({
        dir: path.join(root, 'c'),
        coordinator: 'h:1',
        caFile: path.join(root, 'nope'),
        site: 'site-c',
      }),
    ).toThrow(/cannot be read/);
    expect(fs.existsSync(path.join(root, 'c'))).toBe(false);
  });

  it('names the bad setting in a hand-edited node.yaml', () => {
    const dir = path.join(root, 'd');
    initNode({ dir, coordinator: 'h:1', caFile, site: 'site-d' });
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
});
