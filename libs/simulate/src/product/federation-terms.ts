import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StageName } from '@fedistill/protocol';
import { maxTeachersPerSite, type SimulatedDropStage, type SimulationConfig } from '../config';
import {
  checkEpsilonCapOf,
  completeDefinition,
  SIMULATED_FEDERATION,
  STAGE_DEADLINES,
} from '../simulated-federation';

/** Simulated site i's name (0-based) in the federation and its node directory. */
export const siteName = (i: number): string => `site-${i + 1}`;

export { SIMULATED_FEDERATION } from '../simulated-federation';

/** Class names for the federation definition: the data set's own names, else 'class-0', ... */
export function labelsOf(c: SimulationConfig, classes: number): string[] {
  const declared = 'kind' in c.dataset ? c.dataset.classes : undefined;
  if (Array.isArray(declared) && declared.length === classes) return [...(declared as string[])];
  return Array.from({ length: classes }, (_, i) => `class-${i}`);
}

/**
 * The federation definition an operator would write for this simulation (docs/federations.md):
 * every setting of the simulation that the deployment has is carried over, so the simulated
 * rounds are planned, announced, answered and distilled by the deployment's own code.
 */
export function federationDefinition(
  c: SimulationConfig,
  o: { readonly classes: number; readonly inputShape: readonly number[]; readonly referenceSha256: string },
): Record<string, unknown> {
  if (c.federation) return writtenDefinition(c, c.federation, o);
  const p = c.privacy;
  const sa = c.secureAggregation;
  if (sa.bits < 16)
    throw new RangeError(
      `'secureAggregation.bits' is ${sa.bits}: a deployment's ring has at least 16 bits (federation secureAggregation.modulusBits)`,
    );
  const a = c.aggregation;
  return {
    id: SIMULATED_FEDERATION,
    description: 'fedistill simulate: the deployment run in one process over an in-memory transport',
    labels: labelsOf(c, o.classes),
    input: { shape: [...o.inputShape] },
    referenceSet: { sha256: o.referenceSha256 },
    student: { architecture: 'mlp', hidden: [...c.student.hidden] },
    privacy:
      p.kind === 'none'
        ? { mechanism: 'none', summary: c.summary }
        : {
            mechanism: p.kind,
            summary: c.summary,
            noiseMultiplier: p.noiseMultiplier,
            clipNorm: p.clip,
            granularity: p.granularity ?? 0.01,
            delta: p.delta,
            // The simulation reports epsilon; it does not stop at a cap.
            epsilonCap: 1e6,
            assumedColluders: p.assumedColluders ?? 0,
          },
    secureAggregation: {
      threshold: sa.threshold,
      dropoutTolerance: sa.toleratedDropouts,
      neighbours: sa.neighbours === 'all' ? 0 : sa.neighbours,
      modulusBits: sa.bits,
      maxTeachersPerSite: maxTeachersPerSite(c),
    },
    distillation: {
      aggregation: a.kind,
      ...(a.kind === 'era' ? { eraTemperature: a.temperature } : {}),
      ...(a.kind === 'gnmax' && a.threshold !== undefined ? { gnmaxThreshold: a.threshold } : {}),
      epochs: c.student.epochs,
      batchSize: c.student.batchSize,
      temperature: c.student.temperature ?? 1,
      ...(c.student.schedule ? { schedule: c.student.schedule } : {}),
      threads: c.threads ?? 1,
      seed: c.seed,
      ...(c.student.pseudoLabelThreshold !== undefined
        ? { selfTraining: { threshold: c.student.pseudoLabelThreshold } }
        : {}),
    },
    rounds: {
      queriesPerRound: c.queries.perRound,
      maxRounds: c.rounds,
      minSites: c.sites,
      querySelection: c.queries.strategy,
      deadlines: STAGE_DEADLINES,
    },
    ...(c.features ? { features: c.features } : {}),
    ...(c.revisit
      ? {
          revisit: {
            digestEpochs: c.revisit.digestEpochs,
            localEpochs: c.revisit.localEpochs,
            learningRate: c.revisit.learningRate ?? 1e-3,
          },
        }
      : {}),
  };
}

/**
 * The configuration file's own definition with what the data decided filled in (its labels,
 * input shape and reference set): the coordinator parses it as `federation create` does.
 */
function writtenDefinition(
  c: SimulationConfig,
  written: Readonly<Record<string, unknown>>,
  o: { readonly classes: number; readonly inputShape: readonly number[]; readonly referenceSha256: string },
): Record<string, unknown> {
  const labels = written.labels;
  if (Array.isArray(labels) && labels.length !== o.classes)
    throw new RangeError(`'federation.labels' lists ${labels.length} classes; the data set has ${o.classes}`);
  const done = completeDefinition(written, {
    sites: c.sites,
    labels: labelsOf(c, o.classes),
    inputShape: o.inputShape,
    referenceSha256: o.referenceSha256,
    seed: c.seed,
    ...(c.threads === undefined ? {} : { threads: c.threads }),
    maxTeachersPerSite: maxTeachersPerSite(c),
  });
  if (!done.ok) throw new RangeError(done.problems.join('; '));
  checkEpsilonCapOf(done.spec, c.sites);
  return done.definition;
}

/** The coordinator's stages in order, and the first one a site dropping at each simulated stage misses. */
const STAGES: readonly StageName[] = ['keys', 'shares', 'inputs', 'consistency', 'unmask'];
const FIRST_SILENT: Record<Exclude<SimulatedDropStage, 'keys'>, StageName> = {
  shares: 'shares',
  input: 'inputs',
  // A node that stops after its masked input signs no survivor set either.
  unmask: 'consistency',
};

/** The sites (by name) that the simulation's dropouts keep silent at `stage` of `round`. */
export function silentAt(c: SimulationConfig, round: number, stage: string): Set<string> {
  const at = STAGES.indexOf(stage as StageName);
  const out = new Set<string>();
  if (at < 0) return out;
  for (const d of c.secureAggregation.dropouts ?? [])
    if (d.round === round && d.stage !== 'keys' && STAGES.indexOf(FIRST_SILENT[d.stage]) <= at)
      out.add(siteName(d.site));
  return out;
}

/** The node.yaml drill stage that makes a site silent before `stage` (it stops after the one before). */
const STOP_AFTER: Record<Exclude<SimulatedDropStage, 'keys'>, 'keys' | 'shares' | 'input'> = {
  shares: 'keys',
  input: 'shares',
  unmask: 'input',
};

/**
 * Site `site`'s dropouts as its node.yaml dropout drill (undefined when it has none): it stops
 * after the stage before the one it goes silent at, in the listed rounds only.
 */
export function siteDrill(
  c: SimulationConfig,
  site: number,
): { stopAfter: 'keys' | 'shares' | 'input'; rounds: number[] } | undefined {
  const mine = (c.secureAggregation.dropouts ?? []).filter((d) => d.site === site);
  const first = mine[0];
  if (!first) return undefined;
  if (first.stage === 'keys' || mine.some((d) => d.stage !== first.stage))
    throw new RangeError(
      `'dropouts' of site ${site}: a node's drill stops after one stage other than 'keys'`,
    );
  return {
    stopAfter: STOP_AFTER[first.stage],
    rounds: [...new Set(mine.map((d) => d.round))].sort((a, b) => a - b),
  };
}

/**
 * node.yaml's teachers section: the site's ONNX teachers when the simulation gives them (copied
 * into `nodeDir`/teachers as 0.onnx, 1.onnx, ..., loaded by the node's own code), else the
 * settings it trains its teachers with.
 */
function teacherSettings(
  c: SimulationConfig,
  site: number,
  nodeDir: string | undefined,
): Record<string, unknown> {
  const t = c.teachers;
  const models = t.onnx?.[site];
  if (!models)
    return {
      count: t.perSite,
      hidden: [...t.hidden],
      epochs: t.epochs,
      batchSize: t.batchSize,
      ...(t.schedule ? { schedule: t.schedule } : {}),
      ...(t.abstain ? { abstain: { ...t.abstain } } : {}),
      seed: c.seed * 100 + site,
    };
  if (nodeDir === undefined)
    throw new TypeError("'nodeDir' is required to copy the site's ONNX teachers (teachers.onnx)");
  fs.mkdirSync(path.join(nodeDir, 'teachers'), { recursive: true });
  const onnx = models.map((m, i) => {
    const file = `teachers/${i}.onnx`;
    fs.copyFileSync(m.path, path.join(nodeDir, file));
    const names = Object.entries({ input: m.input, output: m.output, outputKind: m.outputKind });
    const given = names.filter(([, v]) => v !== undefined);
    return given.length === 0 ? file : { path: file, ...Object.fromEntries(given) };
  });
  return { onnx, ...(t.outputKind ? { outputKind: t.outputKind } : {}) };
}

/**
 * What simulated site `site` adds to its node.yaml: its records (written as NPY into its node
 * directory), its teachers as the simulation configures them (its ONNX teachers are copied into
 * `nodeDir`, required then), its dropouts as a dropout drill, and the privacy settings matching
 * the federation's noise plan (the trust a federation's `assumedColluders` asks sites to share).
 */
export function nodeSettings(c: SimulationConfig, site: number, nodeDir?: string): Record<string, unknown> {
  const p = c.privacy;
  const colluders = p.kind === 'none' ? 0 : (p.assumedColluders ?? 0);
  const drill = siteDrill(c, site);
  return {
    data: { train: 'data/train.npy', labels: 'data/labels.npy', format: 'npy', testFraction: 0 },
    teachers: teacherSettings(c, site, nodeDir),
    ...(drill ? { drill } : {}),
    privacy: {
      epsilonLimit: 1e6,
      ...(p.kind === 'none'
        ? { allowNonPrivate: true }
        : colluders === 'all'
          ? { delta: p.delta, trust: 'paranoid' }
          : { delta: p.delta, trust: 'colluders', assumedColluders: colluders }),
    },
    security: { minParticipants: Math.min(3, c.sites), minThreshold: 2 },
    log: { level: 'warn' },
  };
}
