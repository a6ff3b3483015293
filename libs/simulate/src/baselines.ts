import type { Dataset } from '@fedistill/data';
import { classificationMetrics, type ClassificationMetrics } from '@fedistill/distill';
import { TeacherEnsemble } from '@fedistill/distill';
import type { SimulationConfig } from './config';
import type { SimulationData } from './data';
import { type FedAvgResult, federatedAveraging } from './fedavg';

/** Baselines trained with the student's architecture and epochs on labelled private records. */
export interface BaselineResults {
  /** Each site alone on its own records; null when not asked. */
  readonly localOnly: {
    readonly perSite: readonly ClassificationMetrics[];
    readonly meanAccuracy: number;
    readonly bestAccuracy: number;
  } | null;
  /** All private records pooled (the upper bound); null when not asked. */
  readonly centralized: ClassificationMetrics | null;
  /** FedAvg of the student's architecture; null when not asked. */
  readonly fedAvg: FedAvgResult | null;
}

async function trainAndTest(
  records: Dataset,
  test: Dataset,
  c: SimulationConfig,
  seed: number,
): Promise<ClassificationMetrics> {
  // A one-teacher ensemble is exactly "the student architecture trained on these records".
  const model = await TeacherEnsemble.train(records, {
    teachers: 1,
    hidden: c.student.hidden,
    epochs: c.student.epochs,
    batchSize: c.student.batchSize,
    // The recipe of the student the federation trains (distillation.schedule's default).
    schedule: c.student.schedule ?? 'cosine',
    seed,
    threads: c.threads ?? 1,
  });
  try {
    const [probs] = await model.probabilities(test.features, test.count);
    return classificationMetrics(probs as Float32Array, test.labels, test.numClasses);
  } finally {
    await model.dispose();
  }
}

/** Runs the baselines `c.baselines` asks for. */
export async function runBaselines(
  c: SimulationConfig,
  data: SimulationData,
  onProgress?: (message: string) => void,
): Promise<BaselineResults> {
  let localOnly: BaselineResults['localOnly'] = null;
  if (c.baselines?.localOnly) {
    const perSite: ClassificationMetrics[] = [];
    for (const [s, site] of data.sites.entries()) {
      onProgress?.(`local-only baseline: site ${s + 1}/${data.sites.length}`);
      perSite.push(await trainAndTest(site, data.test, c, c.seed * 7 + s));
    }
    const accuracies = perSite.map((m) => m.accuracy);
    localOnly = {
      perSite,
      meanAccuracy: accuracies.reduce((a, b) => a + b, 0) / accuracies.length,
      bestAccuracy: Math.max(...accuracies),
    };
  }
  let centralized: ClassificationMetrics | null = null;
  if (c.baselines?.centralized) {
    onProgress?.('centralized baseline');
    centralized = await trainAndTest(data.pooled, data.test, c, c.seed * 7 + 1000);
  }
  let fedAvg: FedAvgResult | null = null;
  if (c.baselines?.fedAvg) {
    const f = c.baselines.fedAvg;
    fedAvg = await federatedAveraging(data.sites, data.test, data.reference, {
      hidden: c.student.hidden,
      rounds: f.rounds,
      localEpochs: f.localEpochs,
      batchSize: c.student.batchSize,
      seed: c.seed * 7 + 2000,
      threads: c.threads ?? 1,
      onRound: (r) => onProgress?.(`FedAvg baseline: round ${r}/${f.rounds}`),
    });
  }
  return { localOnly, centralized, fedAvg };
}
