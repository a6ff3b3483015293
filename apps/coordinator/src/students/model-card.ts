import type { ClassificationMetrics } from '@fedistill/distill';
import type { FederationSpec, QuerySelection } from '@fedistill/protocol';
import { querySelectionOf } from '../rounds/query-planner';
import type { RoundEvaluation } from '../rounds/round-view';
import type { PrivacySpent } from './privacy-spent';

/** Printed at the top of every card of a student trained without differential privacy. */
export const PRIVACY_NONE_WARNING =
  'PRIVACY: NONE - this student was trained without differential privacy; do not release it';

/** What was measured, and on which data. */
export type CardMetrics =
  | {
      readonly measuredOn: {
        readonly evaluationSet: {
          readonly inputsSha256: string;
          readonly labelsSha256: string;
          readonly rows: number;
        };
      };
      readonly accuracy: number;
      readonly macroF1: number;
      readonly ece: number;
      /** Two classes only (class 1 positive). */
      readonly auroc?: number;
    }
  | { readonly measuredOn: 'no evaluation set registered' };

/** The model card: JSON (served with the student's manifest) and Markdown (for people). */
export interface ModelCard {
  /** Present only when privacy is off, and then first. */
  readonly warning?: string;
  readonly format: 'fedistill-model-card/1';
  readonly federationId: string;
  readonly version: number;
  readonly createdAt: string;
  readonly student: {
    readonly file: 'student.onnx';
    readonly sha256: string;
    readonly bytes: number;
    readonly architecture: FederationSpec['student'];
    readonly inputShape: readonly number[];
    readonly labels: readonly string[];
    readonly io: string;
  };
  readonly referenceSet: { readonly sha256: string; readonly rows: number; readonly rowsDistilled: number };
  /**
   * The federation's feature extractor, inside the student's graph in front of its head: the
   * spec, the SHA-256 of its ONNX bytes (the digest every site rebuilt and checked) and its
   * output size. Absent without `features`.
   */
  readonly features?: NonNullable<FederationSpec['features']> & {
    readonly sha256: string;
    readonly outputSize: number;
    readonly note: string;
  };
  readonly rounds: ReadonlyArray<{
    readonly round: number;
    readonly sites: number;
    readonly queries: number;
    /** How the round's queries were chosen; null for a round planned before it was recorded. */
    readonly querySelection: QuerySelection | null;
  }>;
  readonly privacy: PrivacySpent & { readonly note: string };
  /** The techniques beyond plain distillation, as configured in the federation definition. */
  readonly techniques: {
    readonly querySelection: FederationSpec['rounds']['querySelection'];
    readonly selfTraining: { readonly threshold: number; readonly rowsPseudoLabelled: number } | null;
    /** Announced to the sites in the federation definition; each site runs it on its own teachers. */
    readonly revisit: (NonNullable<FederationSpec['revisit']> & { readonly runBy: 'sites' }) | null;
    readonly note: string;
  };
  readonly distillation: FederationSpec['distillation'] & { readonly trainingSeconds: number };
  readonly metrics: CardMetrics;
  /**
   * The student's evaluation rounds at the sites, oldest first: added when the card is read (the
   * rounds come after publication); absent from a card as published.
   */
  readonly siteEvaluations?: readonly SiteEvaluation[];
}

/** One evaluation round of the student at the sites (securely aggregated, noised, clamped). */
export type SiteEvaluation = Omit<RoundEvaluation, 'studentVersion'> & { readonly round: number };

export interface ModelCardInput {
  readonly spec: FederationSpec;
  readonly version: number;
  readonly createdAt: number;
  readonly onnx: { readonly sha256: string; readonly bytes: number };
  readonly referenceRows: number;
  readonly rowsDistilled: number;
  readonly rounds: ModelCard['rounds'];
  /** Reference rows self-training pseudo-labelled; null when it is off. */
  readonly pseudoLabelled: number | null;
  readonly privacy: PrivacySpent;
  readonly trainingSeconds: number;
  readonly metrics: ClassificationMetrics | null;
  readonly evaluationSet: { inputsSha256: string; labelsSha256: string; rows: number } | null;
  /** The extractor inside the student (its digest and output size); null without `features`. */
  readonly features?: { readonly sha256: string; readonly outputSize: number } | null;
}

export function buildModelCard(i: ModelCardInput): ModelCard {
  const off = i.privacy.mechanism === 'none';
  const m = i.metrics;
  const metrics: CardMetrics =
    m && i.evaluationSet
      ? {
          measuredOn: { evaluationSet: i.evaluationSet },
          accuracy: m.accuracy,
          macroF1: m.macroF1,
          ece: m.ece,
          ...(m.auroc === null ? {} : { auroc: m.auroc }),
        }
      : { measuredOn: 'no evaluation set registered' };
  return {
    ...(off ? { warning: PRIVACY_NONE_WARNING } : {}),
    format: 'fedistill-model-card/1',
    federationId: i.spec.id,
    version: i.version,
    createdAt: new Date(i.createdAt).toISOString(),
    student: {
      file: 'student.onnx',
      sha256: i.onnx.sha256,
      bytes: i.onnx.bytes,
      architecture: i.spec.student,
      inputShape: i.spec.input.shape,
      labels: i.spec.labels,
      io: `input 'input' float32 [N, ...inputShape] of raw values (${i.features ? 'the feature extractor and standardization are' : 'standardization is'} inside the model); outputs 'logits' and 'probabilities' [N, labels]`,
    },
    referenceSet: {
      sha256: i.spec.referenceSet.sha256,
      rows: i.referenceRows,
      rowsDistilled: i.rowsDistilled,
    },
    ...featuresOf(i),
    rounds: i.rounds,
    privacy: {
      ...i.privacy,
      note: off
        ? 'the rounds ran without noise: no differential privacy guarantee holds'
        : `federation-level figure: the announced mechanism of the included rounds composed in the RDP accountant, ${i.privacy.assumption ?? ''}; a colluder's noise share counts for nothing, so each site's own ledger charges for the shares its own assumption counts (node.yaml privacy.trust) and may differ`,
    },
    techniques: techniquesOf(i),
    distillation: { ...i.spec.distillation, trainingSeconds: i.trainingSeconds },
    metrics,
  };
}

function featuresOf(i: ModelCardInput): Pick<ModelCard, 'features'> {
  const spec = i.spec.features;
  if (!spec || !i.features) return {};
  return {
    features: {
      ...spec,
      sha256: i.features.sha256,
      outputSize: i.features.outputSize,
      note: 'fixed before any private record was seen (data-independent scattering, PCA fitted on the public reference set only); every site rebuilt it and checked its SHA-256: no privacy cost',
    },
  };
}

function techniquesOf(i: ModelCardInput): ModelCard['techniques'] {
  const self = i.spec.distillation.selfTraining;
  const revisit = (i.spec as { revisit?: FederationSpec['revisit'] }).revisit;
  return {
    querySelection: querySelectionOf(i.spec),
    selfTraining: self ? { threshold: self.threshold, rowsPseudoLabelled: i.pseudoLabelled ?? 0 } : null,
    revisit: revisit ? { ...revisit, runBy: 'sites' } : null,
    note: 'query selection and self-training use only the student (post-processing of released targets) on public reference inputs: no privacy cost; a revisit round is charged in full as any round',
  };
}

function techniqueLines(c: ModelCard): string[] {
  // Cards published before the techniques were recorded have neither field.
  const t = (c as Partial<ModelCard>).techniques;
  if (!t) return ['- Not recorded in this card (published before techniques were recorded).'];
  const used = (r: ModelCard['rounds'][number]): string =>
    !(r as Partial<typeof r>).querySelection
      ? `${r.round} (not recorded)`
      : r.querySelection?.strategy === 'least-confident'
        ? `${r.round} (least-confident by student v${r.querySelection.studentVersion})`
        : `${r.round} (random)`;
  return [
    `- Query selection: ${t.querySelection}; rounds ${c.rounds.map(used).join(', ')}`,
    `- Self-training: ${t.selfTraining ? `threshold ${t.selfTraining.threshold}, ${t.selfTraining.rowsPseudoLabelled} reference rows pseudo-labelled` : 'off'}`,
    `- Digest and revisit at the sites: ${t.revisit ? `${t.revisit.digestEpochs} digest epochs, ${t.revisit.localEpochs} local epochs, learning rate ${t.revisit.learningRate}` : 'off'}`,
    `- Note: ${t.note}`,
  ];
}

function featureLines(c: ModelCard): string[] {
  const f = c.features;
  if (!f) return [];
  const parts = [
    f.scattering
      ? `scattering (scales ${f.scattering.scales}, angles ${f.scattering.angles}, order ${f.scattering.order})`
      : '',
    f.pca ? `PCA (${f.pca.components} components${f.pca.whiten ? ', whitened' : ''})` : '',
  ].filter((p) => p);
  return [
    `- Features: ${parts.join(' then ')}, ${f.outputSize} values, extractor SHA-256 \`${f.sha256}\``,
    `- Features note: ${f.note}`,
  ];
}

const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

/** The card as Markdown; the privacy warning, when there is one, is its first line. */
export function modelCardMarkdown(c: ModelCard): string {
  const lines: string[] = [];
  if (c.warning) lines.push(`# ⚠ ${c.warning.toUpperCase()}`, '');
  lines.push(`# Student ${c.federationId} v${c.version}`, '', `Published ${c.createdAt}.`, '');
  lines.push(
    '## Model',
    '',
    `- File: \`${c.student.file}\`, ${c.student.bytes} bytes, SHA-256 \`${c.student.sha256}\``,
    `- Architecture: ${JSON.stringify(c.student.architecture)}`,
    `- Input shape: [${c.student.inputShape.join(', ')}]`,
    `- Labels: ${c.student.labels.join(', ')}`,
    `- I/O: ${c.student.io}`,
    ...featureLines(c),
    '',
    '## Data',
    '',
    `- Reference set: SHA-256 \`${c.referenceSet.sha256}\`, ${c.referenceSet.rows} rows, ${c.referenceSet.rowsDistilled} distilled from`,
    `- Rounds: ${c.rounds.map((r) => `${r.round} (${r.sites} sites, ${r.queries} queries)`).join(', ')}`,
    '',
    '## Privacy',
    '',
  );
  if (c.warning) lines.push(`**${c.warning}**`, '');
  lines.push(
    `- Mechanism: ${c.privacy.mechanism}`,
    `- Epsilon: ${c.privacy.epsilon === null ? 'unbounded (no privacy)' : `ε = ${fmt(c.privacy.epsilon)} ${c.privacy.assumption ?? ''}`}`,
    `- Delta: ${c.privacy.delta}`,
    `- Unit: ${c.privacy.unit}`,
    `- Note: ${c.privacy.note}`,
    '',
    '## Training',
    '',
    `- Aggregation: ${c.distillation.aggregation}; ${c.distillation.epochs} epochs, batch ${c.distillation.batchSize}, learning rate ${c.distillation.learningRate} (${c.distillation.schedule}), temperature ${c.distillation.temperature}, seed ${c.distillation.seed}`,
    `- Execution provider: ${c.distillation.executionProvider}; ${fmt(c.distillation.trainingSeconds, 2)} s`,
    '',
    '## Techniques',
    '',
    ...techniqueLines(c),
    '',
    '## Metrics',
    '',
  );
  const m = c.metrics;
  if (m.measuredOn === 'no evaluation set registered')
    lines.push('No evaluation set registered: no metrics.');
  else {
    const e = m.measuredOn.evaluationSet;
    lines.push(
      `Measured on the coordinator's evaluation set (${e.rows} rows; inputs SHA-256 \`${e.inputsSha256}\`, labels SHA-256 \`${e.labelsSha256}\`):`,
      '',
      `- Accuracy: ${fmt(m.accuracy)}`,
      `- Macro-F1: ${fmt(m.macroF1)}`,
      `- ECE: ${fmt(m.ece)}`,
      ...(m.auroc === undefined ? [] : [`- AUROC: ${fmt(m.auroc)}`]),
    );
  }
  if (c.siteEvaluations) lines.push('', ...siteEvaluationLines(c.siteEvaluations));
  return `${lines.join('\n')}\n`;
}

/** The "Evaluated at the sites" section: each evaluation round's accuracy with its interval. */
function siteEvaluationLines(evaluations: readonly SiteEvaluation[]): string[] {
  const lines = ['## Evaluated at the sites', ''];
  if (evaluations.length === 0)
    return [
      ...lines,
      'No evaluation round of this student yet (`fedistill coordinator round start --evaluate`).',
    ];
  for (const e of evaluations) {
    const interval = e.interval
      ? `, 95% interval ${fmt(e.interval.low, 2)}-${fmt(e.interval.high, 2)} for the noise`
      : '';
    lines.push(
      `- Round ${e.round}: accuracy ${e.accuracy === null ? '-' : fmt(e.accuracy)}${interval}, over about ${e.records} of the sites' own test records`,
    );
  }
  lines.push(
    '',
    "Securely aggregated: only the noised sum of the sites' per-class counts was released, and charged to each site's ledger. The counts are kept within possible values (records >= 0, correct <= records) and the interval covers the noise of both sums (Fieller's interval), not the sampling error of the test records: post-processing, no privacy cost.",
  );
  return lines;
}
