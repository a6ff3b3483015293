// Over 300 lines on purpose: the simulation config's type and every invariant it must keep sit
// together, so the rules a file or a caller breaks are found in one place (STYLE.md, configuration).
import * as fs from 'node:fs';
import type { PartitionSpec } from '@fedistill/distill';
import type { LearningRateSchedule, QueryStrategy } from '@fedistill/distill';
import type { FeatureSpec } from '@fedistill/features';

/** The stage before which a simulated site goes silent (as in `@fedistill/secagg`'s `simulateRound`). */
export type SimulatedDropStage = 'keys' | 'shares' | 'input' | 'unmask';

/** What a site-provided ONNX teacher's output holds (node.yaml teachers.outputKind). */
export type TeacherOutputKind = 'logits' | 'probabilities';

/**
 * A site's own ONNX teacher, as an entry of node.yaml's teachers.onnx: the file (absolute once
 * parsed from a configuration file), and the input and output to use when it has several.
 */
export interface SimulationOnnxTeacher {
  readonly path: string;
  readonly input?: string;
  readonly output?: string;
  /** Default: `teachers.outputKind`, else logits. */
  readonly outputKind?: TeacherOutputKind;
}

/** Which data the simulation runs on. */
export type SimulationDataset =
  | { readonly name: 'breast-cancer' | 'digits' }
  /** Fashion-MNIST IDX files (gz) in `directory`; the official test set is the test split. */
  | { readonly name: 'fashion-mnist'; readonly directory: string; readonly limit?: number }
  | SimulationDataFiles;

/**
 * The user's own labelled records, named as in node.yaml's `data` section so settings copy
 * between the two (paths absolute once parsed). Without `test`, a `testFraction` slice of `train`
 * is held out for testing.
 */
export interface SimulationDataFiles {
  readonly kind: 'files';
  readonly format: 'csv' | 'npy' | 'idx';
  /** Records to split into test (unless `test` is given), reference and site records. */
  readonly train: string;
  /** NPY/IDX: the labels file of `train` (integer class indices). */
  readonly labels?: string;
  /** CSV: the label column, a name (needs a header) or an index (negative from the end). */
  readonly labelColumn: string | number;
  /** CSV: the first line holds column names. */
  readonly header: boolean;
  /** CSV: label cells are class indices (0..k-1) or names listed in `classes`. */
  readonly labelValues: 'index' | 'name';
  /** A separate test file in the same format (and its labels file for NPY/IDX). */
  readonly test?: string;
  readonly testLabels?: string;
  /**
   * Declared classes: a count k (labels in [0, k)) or the label names in class order (the
   * federation definition's `labels`). Absent: k = largest label + 1, every class present.
   */
  readonly classes?: number | readonly string[];
}

/** How the coordinator turns the aggregated summaries into distillation targets. */
export type SimulationAggregation =
  | { readonly kind: 'mean' }
  /** ERA sharpening at temperature in (0, 1] (DS-FL, arXiv:2008.06180). */
  | { readonly kind: 'era'; readonly temperature: number }
  /** Noisy argmax; queries whose top noisy count (in summary units) is below `threshold` are dropped. */
  | { readonly kind: 'gnmax'; readonly threshold?: number };

/** Record-level distributed DP on the summed summaries. */
export type SimulationPrivacy =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'skellam' | 'discrete-gaussian';
      /** z: aggregate noise standard deviation = z x the L2 sensitivity of one round's release; > 0. */
      readonly noiseMultiplier: number;
      /** L2 clip of one teacher's soft-label vector for one query, in (0, 1]. */
      readonly clip: number;
      /** δ of the reported (ε, δ), in (0, 1). */
      readonly delta: number;
      /** Granularity γ of quantization (one integer unit = γ probability units); default 0.01. */
      readonly granularity?: number;
      /**
       * Colluders C the noise plan assumes, as a federation's privacy.assumedColluders: each site
       * adds V/(n - T - C), capped at n - T - 1 ('all'). The simulated sites are all honest, so
       * this only shows the utility cost of the assumption; default 0.
       */
      readonly assumedColluders?: number | 'all';
    };

/** Secure aggregation settings (SecAgg+, see `@fedistill/secagg`'s `SecAggConfig`). */
export interface SimulationSecAgg {
  /** Shamir threshold t (a strict majority of a site's neighbours). */
  readonly threshold: number;
  readonly neighbours: number | 'all';
  /** Ring size in bits, integer in [8, 32]. */
  readonly bits: number;
  /** Dropouts T the noise and the round must survive, 0 <= T < sites. */
  readonly toleratedDropouts: number;
  /** Simulated dropouts: in round `round` (1-based) site `site` (0-based) goes silent before `stage`. */
  readonly dropouts?: ReadonlyArray<{
    readonly round: number;
    readonly site: number;
    readonly stage: SimulatedDropStage;
  }>;
}

/** A whole simulation; every count is an integer. */
export interface SimulationConfig {
  readonly dataset: SimulationDataset;
  /** Number of virtual sites N in [2, 255]. */
  readonly sites: number;
  readonly partition: PartitionSpec;
  readonly partitionSeed: number;
  readonly teachers: {
    /** Teachers per site k >= 1 (disjoint partitions of the site's records); unused with `onnx`. */
    readonly perSite: number;
    readonly hidden: readonly number[];
    readonly epochs: number;
    readonly batchSize: number;
    /**
     * Site-provided ONNX teachers instead of training: list i holds site i's models (one list per
     * site). Each site's node loads them with its own code (node.yaml teachers.onnx). Each must
     * have been trained on its own disjoint partition of that site's records: the site's promise.
     */
    readonly onnx?: ReadonlyArray<ReadonlyArray<SimulationOnnxTeacher>>;
    /** What the ONNX teachers' outputs hold unless an entry says otherwise (default logits). */
    readonly outputKind?: TeacherOutputKind;
    /** Learning-rate schedule of the teachers' training (node.yaml teachers.schedule; default constant). */
    readonly schedule?: LearningRateSchedule;
    /**
     * Teachers abstain on queries unlike their own partition (node.yaml teachers.abstain; libs/distill
     * abstention.ts); off when absent. `fraction` in (0, 1]: the share of the reference set each answers.
     */
    readonly abstain?: { readonly fraction?: number };
  };
  readonly student: {
    readonly hidden: readonly number[];
    readonly epochs: number;
    readonly batchSize: number;
    /** Distillation temperature > 0 (default 1). */
    readonly temperature?: number;
    /** Learning-rate schedule of the student (distillation.schedule; default cosine). */
    readonly schedule?: LearningRateSchedule;
    /**
     * Self-training on unanswered reference inputs: the student's own predictions at least this
     * confident, in (0, 1), become extra one-hot targets (post-processing: no privacy cost).
     */
    readonly pseudoLabelThreshold?: number;
  };
  /** Records held out as the public reference set (labels unused), >= 1. */
  readonly referenceSize: number;
  /** Fraction of the records held out for testing, in (0, 0.5] (ignored for fashion-mnist and a `test` file). */
  readonly testFraction: number;
  readonly rounds: number;
  /**
   * Multi-round FedMD/DS-FL option: after every round but the last, each site fine-tunes its
   * teachers on the released targets of the answered reference inputs (digest) and then on
   * their own partitions (revisit). Off when absent.
   */
  readonly revisit?: {
    readonly digestEpochs: number;
    readonly localEpochs: number;
    /** Adam learning rate of the fine-tuning; default 1e-3. */
    readonly learningRate?: number;
  };
  /**
   * The federation's feature extractor (its `features` section: scattering, PCA fitted on the
   * public reference set, or both): teachers and student are heads on its output. Off when absent.
   */
  readonly features?: FeatureSpec;
  readonly queries: { readonly perRound: number; readonly strategy: QueryStrategy['kind'] };
  readonly summary: 'soft-labels' | 'votes' | 'class-sums';
  readonly aggregation: SimulationAggregation;
  readonly privacy: SimulationPrivacy;
  readonly secureAggregation: SimulationSecAgg;
  /** Baselines trained on the same data with the student's architecture. */
  readonly baselines?: {
    readonly localOnly?: boolean;
    readonly centralized?: boolean;
    /** FedAvg of the student's architecture (no privacy): rounds and local epochs per round. */
    readonly fedAvg?: { readonly rounds: number; readonly localEpochs: number };
  };
  readonly seed: number;
  /** ONNX Runtime intra-op threads (default 1). */
  readonly threads?: number;
  /**
   * The federation definition as the configuration file wrote it (its `federation` section):
   * given to the simulated coordinator as written, with what the data and sites decide filled in
   * (product/federation-terms.ts). The fields above that follow from it (privacy, rounds,
   * queries, ...) are its values, read once by parseSimulationConfig. Absent when a program
   * builds the configuration itself; the definition is then derived from those fields.
   */
  readonly federation?: Readonly<Record<string, unknown>>;
}

function int(field: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(
      `'${field}' must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}]`,
    );
}

/** Hidden widths; `[]` (a linear model) only where `linear` allows it, as node.yaml's teachers do. */
function widths(field: string, h: readonly number[], linear = false): void {
  if (!Array.isArray(h)) throw new RangeError(`'${field}' must be a list of widths`);
  if (h.length === 0 && !linear) throw new RangeError(`'${field}' must list at least one width`);
  h.forEach((w, i) => int(`${field}[${i}]`, w, 1));
}

/** Throws RangeError naming the first field of `c` that breaks an invariant. */
export function validateSimulationConfig(c: SimulationConfig): void {
  int('sites', c.sites, 2, 255);
  if ('kind' in c.dataset) validateDataFiles(c.dataset);
  int('partitionSeed', c.partitionSeed, 0);
  int('teachers.count', c.teachers.perSite, 1);
  widths('teachers.hidden', c.teachers.hidden, true);
  int('teachers.epochs', c.teachers.epochs, 1);
  int('teachers.batchSize', c.teachers.batchSize, 1);
  widths('student.hidden', c.student.hidden);
  int('student.epochs', c.student.epochs, 1);
  int('student.batchSize', c.student.batchSize, 1);
  if (c.student.temperature !== undefined && !(c.student.temperature > 0))
    throw new RangeError("'student.temperature' must be > 0");
  const pl = c.student.pseudoLabelThreshold;
  if (pl !== undefined && !(pl > 0 && pl < 1))
    throw new RangeError("'student.pseudoLabelThreshold' must be in (0, 1)");
  int('referenceSize', c.referenceSize, 1);
  if (!(c.testFraction > 0 && c.testFraction <= 0.5))
    throw new RangeError("'testFraction' must be in (0, 0.5]");
  int('rounds', c.rounds, 1);
  int('queries.perRound', c.queries.perRound, 1);
  if (c.queries.perRound * c.rounds > c.referenceSize)
    throw new RangeError(
      "'federation.rounds.queriesPerRound' x 'federation.rounds.maxRounds' must not exceed 'referenceSize' (each input is asked once)",
    );
  int('seed', c.seed, 0);
  if (c.revisit) {
    int('revisit.digestEpochs', c.revisit.digestEpochs, 0);
    int('revisit.localEpochs', c.revisit.localEpochs, 0);
    if (c.revisit.digestEpochs + c.revisit.localEpochs === 0)
      throw new RangeError("'revisit' needs 'digestEpochs' or 'localEpochs' >= 1");
    const lr = c.revisit.learningRate;
    if (lr !== undefined && !(lr > 0 && Number.isFinite(lr)))
      throw new RangeError("'revisit.learningRate' must be a finite number > 0");
    if (c.rounds < 2) throw new RangeError("'revisit' needs 'rounds' >= 2 (it acts between rounds)");
  }
  if (c.aggregation.kind === 'era' && !(c.aggregation.temperature > 0 && c.aggregation.temperature <= 1))
    throw new RangeError("'aggregation.temperature' must be in (0, 1]");
  if (
    c.aggregation.kind === 'gnmax' &&
    c.aggregation.threshold !== undefined &&
    !(c.aggregation.threshold >= 0)
  )
    throw new RangeError("'aggregation.threshold' must be >= 0");
  if (c.baselines?.fedAvg) {
    int('baselines.fedAvg.rounds', c.baselines.fedAvg.rounds, 1);
    int('baselines.fedAvg.localEpochs', c.baselines.fedAvg.localEpochs, 1);
  }
  validatePrivacy(c.privacy);
  validateSecAgg(c.secureAggregation, c.sites, c.rounds);
  validateOnnxTeachers(c);
}

/** One list of existing ONNX files per site; revisit cannot fine-tune a site's own models. */
function validateOnnxTeachers(c: SimulationConfig): void {
  const { onnx, outputKind, abstain } = c.teachers;
  const f = abstain?.fraction;
  if (f !== undefined && !(f > 0 && f <= 1))
    throw new RangeError("'teachers.abstain.fraction' must be in (0, 1]");
  if (abstain && onnx !== undefined)
    throw new RangeError(
      "'teachers.abstain' cannot be used with 'teachers.onnx': a node gates only teachers it trained itself (it knows their partitions)",
    );
  if (onnx === undefined) {
    if (outputKind !== undefined)
      throw new RangeError("'teachers.outputKind' applies to 'teachers.onnx' only; set it or remove this");
    return;
  }
  if (!Array.isArray(onnx) || onnx.length !== c.sites)
    throw new RangeError(
      `'teachers.onnx' must hold one list of models per site: ${c.sites} lists for 'sites' ${c.sites}, not ${Array.isArray(onnx) ? onnx.length : 'a non-list'}`,
    );
  if (c.revisit)
    throw new RangeError(
      "'federation.revisit' cannot be used with 'teachers.onnx': a node fine-tunes only teachers it trained itself (it would skip revisit)",
    );
  if (c.features)
    throw new RangeError(
      "'federation.features' cannot be used with 'teachers.onnx': site-provided ONNX teachers take raw inputs (a node refuses the combination)",
    );
  for (const [site, models] of onnx.entries()) {
    if (!Array.isArray(models) || models.length === 0)
      throw new RangeError(`'teachers.onnx[${site}]' must list at least one ONNX model for site ${site}`);
    for (const [i, m] of models.entries())
      if (typeof m?.path !== 'string' || !fs.existsSync(m.path) || !fs.statSync(m.path).isFile())
        throw new RangeError(`'teachers.onnx[${site}][${i}]': ${String(m?.path)} is not a file`);
  }
}

/** The most teachers any site has: its ONNX models, else `teachers.perSite`. */
export function maxTeachersPerSite(c: SimulationConfig): number {
  return c.teachers.onnx ? Math.max(...c.teachers.onnx.map((l) => l.length)) : c.teachers.perSite;
}

function validatePrivacy(p: SimulationPrivacy): void {
  if (p.kind === 'none') return;
  if (!(p.noiseMultiplier > 0 && Number.isFinite(p.noiseMultiplier)))
    throw new RangeError("'privacy.noiseMultiplier' must be a finite number > 0");
  if (!(p.clip > 0 && p.clip <= 1)) throw new RangeError("'privacy.clip' must be in (0, 1]");
  if (!(p.delta > 0 && p.delta < 1)) throw new RangeError("'privacy.delta' must be in (0, 1)");
  if (p.granularity !== undefined && !(p.granularity > 0 && p.granularity <= 1))
    throw new RangeError("'privacy.granularity' must be in (0, 1]");
}

function validateSecAgg(s: SimulationSecAgg, sites: number, rounds: number): void {
  int('federation.secureAggregation.modulusBits', s.bits, 8, 32);
  int('federation.secureAggregation.dropoutTolerance', s.toleratedDropouts, 0, sites - 1);
  const degree = s.neighbours === 'all' ? sites - 1 : Math.min(s.neighbours, sites - 1);
  if (s.neighbours !== 'all') int('federation.secureAggregation.neighbours', s.neighbours, 2);
  if (!Number.isInteger(s.threshold) || 2 * s.threshold <= degree || s.threshold > degree)
    throw new RangeError(
      `'federation.secureAggregation.threshold' must be an integer with ${degree}/2 < t <= ${degree} (a strict majority of a site's neighbours)`,
    );
  // After T dropouts a survivor must still hold t live neighbours, or its mask cannot be removed.
  if (degree - s.toleratedDropouts < s.threshold)
    throw new RangeError(
      `'federation.secureAggregation.dropoutTolerance' ${s.toleratedDropouts} leaves fewer than threshold ${s.threshold} of ${degree} neighbours`,
    );
  const stageOf = new Map<number, SimulatedDropStage>();
  const seen = new Set<string>();
  for (const [i, d] of (s.dropouts ?? []).entries()) {
    const field = `dropouts[${i}]`;
    int(`${field}.round`, d.round, 1, rounds);
    int(`${field}.site`, d.site, 0, sites - 1);
    // Each dropout becomes the site's node.yaml drill (stop after the stage before `stage`): a
    // node never sends keys it does not mean to use, so silence before 'keys' has no drill.
    if (d.stage === 'keys')
      throw new RangeError(
        `'${field}.stage' 'keys' is not supported: a node's dropout drill stops after a stage it took part in; use 'shares', 'input' or 'unmask'`,
      );
    if (!(['shares', 'input', 'unmask'] as const).includes(d.stage))
      throw new RangeError(`'${field}.stage' must be 'shares', 'input' or 'unmask'`);
    const earlier = stageOf.get(d.site);
    if (earlier !== undefined && earlier !== d.stage)
      throw new RangeError(
        `'${field}.stage': site ${d.site} already goes silent before '${earlier}'; a node's drill (node.yaml drill.stopAfter) has one stage for all its rounds`,
      );
    if (seen.has(`${d.round}/${d.site}`))
      throw new RangeError(`'${field}': site ${d.site} is listed twice for round ${d.round}`);
    stageOf.set(d.site, d.stage);
    seen.add(`${d.round}/${d.site}`);
  }
}

function validateDataFiles(d: SimulationDataFiles): void {
  if (d.format !== 'csv' && d.labels === undefined)
    throw new RangeError(`'dataset.labels' is required with format ${d.format}`);
  if (d.format !== 'csv' && d.test !== undefined && d.testLabels === undefined)
    throw new RangeError(`'dataset.testLabels' is required with format ${d.format} and a test file`);
  if (d.format === 'csv' && (d.labels !== undefined || d.testLabels !== undefined))
    throw new RangeError(
      "'dataset.labels' and 'dataset.testLabels' are for npy/idx; a CSV names its 'labelColumn'",
    );
  if (d.testLabels !== undefined && d.test === undefined)
    throw new RangeError("'dataset.testLabels' needs 'dataset.test'");
  if (typeof d.classes === 'number') int('dataset.classes', d.classes, 2);
  if (Array.isArray(d.classes)) {
    const names = d.classes as readonly string[];
    if (names.length < 2 || new Set(names).size !== names.length)
      throw new RangeError("'dataset.classes' must list at least two distinct label names");
  }
  if (d.labelValues === 'name' && !Array.isArray(d.classes))
    throw new RangeError("'dataset.labelValues' name needs 'dataset.classes' as the list of label names");
  if (d.labelValues === 'name' && d.format !== 'csv')
    throw new RangeError(`'dataset.labelValues' name is for CSV; ${d.format} labels are class indices`);
}
