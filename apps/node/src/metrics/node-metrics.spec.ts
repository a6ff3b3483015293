import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { DeclineReason } from '@fedistill/wire';
import { parsePrometheusText, sampleValue } from '../../../../test/e2e/support/prometheus-text';
import { loadNodeConfig, NODE_FILES, NodeConfigError } from '../node-config';
import { NodeMetrics, serveNodeMetrics } from './node-metrics';
import { isLoopback } from './node-metrics-config';

describe('node.yaml metrics', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-node-metrics-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const load = (metrics?: unknown) => {
    const base = { site: 'st-marys', coordinator: 'coord.example:7443', ca: 'ca.crt' };
    fs.writeFileSync(
      path.join(dir, NODE_FILES.config),
      stringify(metrics === undefined ? base : { ...base, metrics }),
    );
    return loadNodeConfig(dir);
  };

  it('serves nothing by default, and on loopback port 9464 when the section is there', () => {
    expect(load().metrics).toBeNull();
    expect(load({}).metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(load({ listen: '[::1]:0' }).metrics).toEqual({ host: '::1', port: 0 });
  });

  it('refuses a non-loopback address unless allowed, naming the setting', () => {
    expect(() => load({ listen: '0.0.0.0:9464' })).toThrow(NodeConfigError);
    expect(() => load({ listen: '0.0.0.0:9464' })).toThrow(
      /metrics\.listen: 0\.0\.0\.0 is not a loopback address.*metrics\.allowNonLoopback: true/,
    );
    expect(load({ listen: '10.0.0.5:9464', allowNonLoopback: true }).metrics).toEqual({
      host: '10.0.0.5',
      port: 9464,
    });
  });

  it('refuses a listen that is not host:port, a port out of range and unknown keys', () => {
    expect(() => load({ listen: '9464' })).toThrow(/metrics\.listen: '9464' is not host:port/);
    expect(() => load({ listen: '127.0.0.1:70000' })).toThrow(/metrics\.listen/);
    expect(() => load({ port: 9464 })).toThrow(/metrics: Unrecognized key/);
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.3.4.5', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.org', '1270.0.0.1'].some(isLoopback)).toBe(false);
  });
});

describe(NodeMetrics.name, () => {
  const ledger = { spent: 1.25, epsilonLimit: 8 };

  it('serves what the node did on loopback: rounds by outcome, declines by reason code, epsilon, bytes, training, connection', async () => {
    const sut = new NodeMetrics(ledger, { defaultMetrics: false });
    sut.round('strict', 'answered');
    sut.round('strict', 'declined', DeclineReason.DECLINE_REASON_BUDGET_EXHAUSTED);
    sut.egress('Rounds/SubmitMaskedSummary', 4000);
    sut.egress('Rounds/SubmitMaskedSummary', 96);
    sut.teachersPrepared('strict', 2500);
    sut.connection(true);
    sut.connection(false);
    sut.connection(false); // already down: not a second disconnect
    const server = await serveNodeMetrics(sut, { host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const m = parsePrometheusText(await res.text());
      expect(sampleValue(m, 'fedistill_node_rounds_total', { outcome: 'answered' })).toBe(1);
      expect(sampleValue(m, 'fedistill_node_rounds_total', { outcome: 'declined' })).toBe(1);
      expect(
        sampleValue(m, 'fedistill_node_round_declines_total', {
          federation: 'strict',
          reason: 'BUDGET_EXHAUSTED',
        }),
      ).toBe(1);
      expect(sampleValue(m, 'fedistill_node_epsilon_spent')).toBe(1.25);
      expect(sampleValue(m, 'fedistill_node_epsilon_limit')).toBe(8);
      expect(sampleValue(m, 'fedistill_node_sent_bytes_total', { kind: 'Rounds/SubmitMaskedSummary' })).toBe(
        4096,
      );
      expect(sampleValue(m, 'fedistill_node_teacher_training_seconds_sum', { federation: 'strict' })).toBe(
        2.5,
      );
      expect(sampleValue(m, 'fedistill_node_coordinator_connected')).toBe(0);
      expect(sampleValue(m, 'fedistill_node_coordinator_disconnects_total')).toBe(1);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('reads the ledger at every scrape', async () => {
    const live = { spent: 0, epsilonLimit: 8 };
    const sut = new NodeMetrics(live, { defaultMetrics: false });
    live.spent = 3.5;
    expect(sampleValue(parsePrometheusText(await sut.scrape()), 'fedistill_node_epsilon_spent')).toBe(3.5);
  });
});
