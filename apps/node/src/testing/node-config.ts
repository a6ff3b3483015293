import * as path from 'node:path';
import type { NodeConfig } from '../node-config';

/** What a spec changes of {@link testNodeConfig}'s defaults. */
export interface TestNodeConfigChanges {
  readonly site?: string;
  /** Fields of `data`; `null` for a node without data (it declines every round). */
  readonly data?: Partial<NonNullable<NodeConfig['data']>> | null;
  readonly teachers?: Partial<NodeConfig['teachers']>;
  readonly privacy?: Partial<NodeConfig['privacy']>;
  readonly executionProvider?: NodeConfig['executionProvider'];
}

/**
 * A node's configuration as loadNodeConfig returns it, for specs that build a node's parts
 * directly: records in `DIR/train.csv` (label column `label`), two small MLP teachers trained for
 * one epoch, a paranoid ledger with limit 100, no network. One literal, so that a new node.yaml
 * setting is added here once rather than in every spec.
 */
export function testNodeConfig(dir: string, c: TestNodeConfigChanges = {}): NodeConfig {
  return {
    dir,
    site: c.site ?? 'site-a',
    coordinator: 'h:1',
    caFile: '',
    serverName: undefined,
    reconnect: { initialDelayMs: 1, maxDelayMs: 1 },
    anchorIntervalMs: 1000,
    retainFreedHeap: false,
    logLevel: 'silent',
    data:
      c.data === null
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
            testFraction: 0,
            seed: 1,
            ...c.data,
          },
    teachers: {
      count: 2,
      hidden: [4],
      epochs: 1,
      batchSize: 4,
      learningRate: 0.05,
      schedule: 'constant',
      seed: 7,
      perGraph: 64,
      onnx: undefined,
      ...c.teachers,
    },
    executionProvider: c.executionProvider ?? 'cpu',
    privacy: {
      epsilonLimit: 100,
      delta: 1e-5,
      allowNonPrivate: false,
      trust: { kind: 'paranoid' },
      ...c.privacy,
    },
    security: { minParticipants: 3, minThreshold: 2 },
    drillStopAfter: undefined,
  };
}
