import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseFederationSpec } from '@fedistill/protocol';
import { parseSimulationConfig, SimulationConfigError } from '@fedistill/simulate';
import { ConfigError, loadCoordinatorConfig } from '../../../apps/coordinator/src/config/coordinator-config';
import { loadNodeConfig, NODE_FILES, NodeConfigError } from '../../../apps/node/src/node-config';
import { fuzzDocument, fuzzYamlText } from '../support/documents';
import { describeError, type FuzzSurface, refusedWith } from '../support/surface';

/**
 * Configuration documents: the federation definition (admin API and CLI), the simulation
 * configuration, the coordinator's config file and a node's node.yaml. Each case is a valid
 * document with fields removed, types swapped, numbers out of range or unknown keys added (or,
 * for files, its YAML text damaged). A refusal must name the setting: 'a.b.c: problem'.
 */

/** A settings path at the start of a line of the message ('privacy.delta: ...'). */
const NAMES_SETTING = /(^|\n|; |: )\s*(\(top level\)|[A-Za-z_][\w-]*(\.[\w-]+|\[\d+\])*): \S/;

function namingSetting(...types: (abstract new (...args: never[]) => Error)[]) {
  const typed = refusedWith(...types);
  return (err: unknown): string | undefined => {
    const problem = typed(err);
    if (problem) return problem;
    const m = (err as Error).message;
    // A file that is not YAML at all names the file and the parser's complaint instead.
    if (/is not valid YAML|must be a YAML mapping|cannot be read|does not exist/.test(m)) return undefined;
    return NAMES_SETTING.test(m) ? undefined : `refusal names no setting: '${m.slice(0, 300)}'`;
  };
}

// ---- federation definition ----

export const FEDERATION_SEEDS: readonly unknown[] = [
  {
    id: 'breast-cancer',
    labels: ['malignant', 'benign'],
    input: { shape: [30] },
    referenceSet: { sha256: 'ab'.repeat(32) },
    student: { architecture: 'mlp', hidden: [32] },
    privacy: { mechanism: 'skellam', noiseMultiplier: 2, epsilonCap: 8 },
    rounds: { minSites: 3 },
  },
  {
    id: 'fmnist',
    description: 'ten hospitals',
    labels: ['a', 'b', 'c', 'd'],
    input: { shape: [1, 28, 28] },
    referenceSet: { sha256: 'cd'.repeat(32) },
    student: { architecture: 'cnn', channels: [8, 16], hidden: 64 },
    privacy: {
      mechanism: 'discrete-gaussian',
      summary: 'votes',
      targetEpsilon: 4,
      delta: 1e-6,
      assumedColluders: 1,
    },
    secureAggregation: { dropoutTolerance: 1, neighbours: 4, modulusBits: 24, maxTeachersPerSite: 8 },
    distillation: { aggregation: 'gnmax', gnmaxThreshold: 3, epochs: 5, schedule: 'constant' },
    rounds: {
      minSites: 4,
      queriesPerRound: 50,
      maxRounds: 3,
      querySelection: 'least-confident',
      deadlines: { advertiseKeys: '10s', maskedInput: '2m', consistency: '20s' },
    },
    revisit: { digestEpochs: 1, localEpochs: 2 },
  },
  {
    id: 'plain',
    labels: ['x', 'y', 'z'],
    input: { shape: [4] },
    referenceSet: { sha256: '01'.repeat(32) },
    student: { architecture: 'mlp' },
    privacy: { mechanism: 'none' },
    distillation: { aggregation: 'era', eraTemperature: 0.5, selfTraining: { threshold: 0.9 } },
    rounds: { minSites: 2 },
  },
];

/** Where `v` holds a number that JSON cannot carry, or undefined. */
function nonJson(v: unknown, at = '(top level)'): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${at} is ${v}`;
  if (v === null || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    const found = nonJson(x, `${at}.${k}`);
    if (found) return found;
  }
  return undefined;
}

/** A federation definition's refusal: parseFederationSpec's list of problems. */
export class SpecProblems extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

export const federationSurface: FuzzSurface<unknown> = {
  name: 'federation definition',
  generate: (rng) => fuzzDocument(rng, FEDERATION_SEEDS),
  feed: (doc) => {
    const r = parseFederationSpec(doc);
    if (!r.ok) throw new SpecProblems(r.problems);
    return r.spec;
  },
  // The coordinator stores the parsed definition as JSON and sends members that JSON: a value
  // JSON cannot carry (NaN, Infinity) would change on the way.
  validate: (spec) => nonJson(spec),
  refusal: (err) => {
    if (!(err instanceof SpecProblems)) return `threw ${describeError(err)}`;
    const bad = err.problems.find((p) => !/^(\(top level\)|[\w-]+(\.[\w-]+)*): \S/.test(p));
    return bad === undefined && err.problems.length > 0 ? undefined : `problem names no field: '${bad}'`;
  },
  show: (doc) => JSON.stringify(doc)?.slice(0, 600) ?? String(doc),
};

// ---- simulation configuration ----

const SIMULATION_SEEDS: readonly unknown[] = [
  {
    dataset: { name: 'digits' },
    sites: 5,
    teachers: { count: 2 },
    referenceSize: 200,
    federation: {
      student: { architecture: 'mlp' },
      privacy: { mechanism: 'none' },
      rounds: { queriesPerRound: 50, maxRounds: 1 },
    },
  },
  // examples/breast-cancer.simulation.yaml
  {
    dataset: { name: 'breast-cancer' },
    sites: 3,
    partition: { kind: 'iid' },
    partitionSeed: 3,
    teachers: { count: 20, hidden: [16], epochs: 40, batchSize: 8 },
    referenceSize: 114,
    testFraction: 0.2,
    federation: {
      student: { architecture: 'mlp', hidden: [16] },
      privacy: {
        mechanism: 'skellam',
        summary: 'votes',
        noiseMultiplier: 1.2,
        delta: 1e-5,
        epsilonCap: 8,
        assumedColluders: 0,
      },
      secureAggregation: { threshold: 2, neighbours: 0, modulusBits: 32, dropoutTolerance: 0 },
      distillation: { aggregation: 'gnmax', epochs: 60, batchSize: 16 },
      rounds: { queriesPerRound: 10, querySelection: 'random', maxRounds: 3 },
    },
    baselines: { localOnly: true, centralized: true, fedAvg: { rounds: 10, localEpochs: 2 } },
    seed: 3,
  },
  {
    dataset: { name: 'fashion-mnist', limit: 2000 },
    sites: 10,
    teachers: { count: 3, hidden: [32] },
    referenceSize: 500,
    federation: {
      student: { architecture: 'mlp', hidden: [32] },
      privacy: { mechanism: 'discrete-gaussian', noiseMultiplier: 3, delta: 1e-5, epsilonCap: 50 },
      secureAggregation: { neighbours: 4, dropoutTolerance: 1 },
      rounds: { queriesPerRound: 100, maxRounds: 2 },
    },
  },
];

export const simulationSurface: FuzzSurface<unknown> = {
  name: 'simulation config',
  generate: (rng) => fuzzDocument(rng, SIMULATION_SEEDS),
  feed: (doc) => parseSimulationConfig(doc, 'sim.yaml', { baseDir: '/nonexistent' }),
  refusal: namingSetting(SimulationConfigError),
  show: (doc) => JSON.stringify(doc)?.slice(0, 600) ?? String(doc),
};

// ---- files: coordinator config and node.yaml ----

let scratch: string | undefined;
function scratchDir(): string {
  if (!scratch) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-fuzz-cfg-'));
    fs.writeFileSync(path.join(dir, 'c.crt'), 'CERT');
    fs.writeFileSync(path.join(dir, 'c.key'), 'KEY');
    fs.writeFileSync(path.join(dir, 'token'), 't'.repeat(40));
    scratch = dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

const COORDINATOR_SEEDS: readonly unknown[] = [
  { grpc: { tls: { cert: 'c.crt', key: 'c.key' } }, admin: { operatorToken: 't'.repeat(40) } },
  {
    dataDir: 'data',
    grpc: { listen: '127.0.0.1:7443', tls: { cert: 'c.crt', key: 'c.key' } },
    admin: { listen: '127.0.0.1:7080', operatorTokenFile: 'token' },
    sessions: { heartbeatInterval: '5s', offlineAfter: '20s' },
    auth: { clockSkew: '30s' },
    enrolment: { defaultTokenTtl: '1h' },
  },
];

export const coordinatorConfigSurface: FuzzSurface<string> = {
  name: 'coordinator config',
  generate: (rng) => fuzzYamlText(rng, COORDINATOR_SEEDS),
  feed: (text) => {
    const file = path.join(scratchDir(), 'coordinator.yaml');
    fs.writeFileSync(file, text);
    return loadCoordinatorConfig(file);
  },
  refusal: namingSetting(ConfigError),
  show: (text) => JSON.stringify(text.slice(0, 600)),
};

const NODE_SEEDS: readonly unknown[] = [
  {
    site: 'st-marys',
    coordinator: 'coord.example:7443',
    ca: 'ca.crt',
    reconnect: { initialDelay: '500ms', maxDelay: '30s' },
    audit: { anchorInterval: '60s' },
    security: { minParticipants: 3, minThreshold: 2 },
    log: { level: 'info' },
  },
  {
    site: 'site-b',
    coordinator: '10.0.0.1:7443',
    serverName: 'coordinator',
    data: { train: 'records.csv', labelColumn: 'label', test: 'test.csv', testFraction: 0.1, seed: 3 },
    teachers: { count: 8, hidden: [16, 8], epochs: 5, batchSize: 16, learningRate: 0.05, schedule: 'cosine' },
    privacy: { epsilonLimit: 4, delta: 1e-6, trust: 'colluders', assumedColluders: 1 },
    drill: { stopAfter: 'shares', rounds: [2] },
    performance: { retainFreedHeap: true },
  },
  {
    site: 'site-c',
    coordinator: 'h:1',
    data: { train: 'x.npy', labels: 'y.npy', format: 'npy' },
    teachers: { onnx: ['a.onnx', { path: 'b.onnx', input: 'x', output: 'p', outputKind: 'probabilities' }] },
    executionProvider: 'auto',
  },
];

export const nodeConfigSurface: FuzzSurface<string> = {
  name: 'node.yaml',
  generate: (rng) => fuzzYamlText(rng, NODE_SEEDS),
  feed: (text) => {
    const dir = scratchDir();
    fs.writeFileSync(path.join(dir, NODE_FILES.config), text);
    return loadNodeConfig(dir);
  },
  refusal: namingSetting(NodeConfigError),
  show: (text) => JSON.stringify(text.slice(0, 600)),
};

export const configSurfaces = [
  federationSurface,
  simulationSurface,
  coordinatorConfigSurface,
  nodeConfigSurface,
];
