import type { ClassificationMetrics } from '@fedistill/distill';
import type { FederationSpec } from '@fedistill/protocol';
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
  readonly rounds: ReadonlyArray<{
    readonly round: number;
    readonly sites: number;
    readonly queries: number;
  }>;
  readonly privacy: PrivacySpent & { readonly note: string };
  readonly distillation: FederationSpec['distillation'] & { readonly trainingSeconds: number };
  readonly metrics: CardMetrics;
}

export interface ModelCardInput {
  readonly spec: FederationSpec;
  readonly version: number;
  readonly createdAt: number;
  readonly onnx: { readonly sha256: string; readonly bytes: number };
  readonly referenceRows: number;
  readonly rowsDistilled: number;
  readonly rounds: ModelCard['rounds'];
  readonly privacy: PrivacySpent;
  readonly trainingSeconds: number;
  readonly metrics: ClassificationMetrics | null;
  readonly evaluationSet: { inputsSha256: string; labelsSha256: string; rows: number } | null;
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
      io: "input 'input' float32 [N, ...inputShape] of raw values (standardization is inside the model); outputs 'logits' and 'probabilities' [N, labels]",
    },
    referenceSet: {
      sha256: i.spec.referenceSet.sha256,
      rows: i.referenceRows,
      rowsDistilled: i.rowsDistilled,
    },
    rounds: i.rounds,
    privacy: {
      ...i.privacy,
      note: off
        ? 'the rounds ran without noise: no differential privacy guarantee holds'
        : `federation-level figure: the announced mechanism of the included rounds composed in the RDP accountant, ${i.privacy.assumption ?? ''}; a colluder's noise share counts for nothing, so each site's own ledger charges for the shares its own assumption counts (node.yaml privacy.trust) and may differ`,
    },
    distillation: { ...i.spec.distillation, trainingSeconds: i.trainingSeconds },
    metrics,
  };
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
    `- Aggregation: ${c.distillation.aggregation}; ${c.distillation.epochs} epochs, batch ${c.distillation.batchSize}, learning rate ${c.distillation.learningRate}, temperature ${c.distillation.temperature}, seed ${c.distillation.seed}`,
    `- Execution provider: ${c.distillation.executionProvider}; ${fmt(c.distillation.trainingSeconds, 2)} s`,
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
  return `${lines.join('\n')}\n`;
}
