import { useState } from 'preact/hooks';
import { formatEpsilon, formatPercent } from '../format';
import { usePolling } from '../hooks';
import type { Federation, Student } from '../types';
import { Loading, Page, Problem, WithFederation } from './common';
import type { PageProps } from './props';

function ModelCardView(p: { student: Student; onClose: () => void }) {
  const c = p.student.modelCard;
  const m = c.metrics;
  return (
    <section class="card" aria-labelledby="card-title" data-testid="model-card">
      <h3 id="card-title" tabIndex={-1} ref={(el) => el?.focus()}>
        Model card: student v{c.version}
      </h3>
      {c.warning && (
        <p class="error" role="alert">
          {c.warning}
        </p>
      )}
      <dl class="facts">
        <dt>Published</dt>
        <dd>{new Date(p.student.publishedAt).toLocaleString()}</dd>
        <dt>Model</dt>
        <dd>
          {c.student.architecture.architecture}
          {c.student.architecture.hidden ? ` (hidden ${c.student.architecture.hidden.join(' × ')})` : ''},
          input [{c.student.inputShape.join(', ')}], labels {c.student.labels.join(', ')}; {c.student.bytes}{' '}
          bytes
        </dd>
        <dt>SHA-256</dt>
        <dd>
          <code>{c.student.sha256}</code>
        </dd>
        <dt>Trained from</dt>
        <dd>
          rounds {c.rounds.map((r) => r.round).join(', ')}: {c.referenceSet.rowsDistilled} of{' '}
          {c.referenceSet.rows} reference inputs, in {c.distillation.trainingSeconds.toFixed(1)} s
        </dd>
        <dt>Privacy</dt>
        <dd data-testid="card-privacy">
          {c.privacy.epsilon === null
            ? 'none: no finite ε holds'
            : `ε ${formatEpsilon(c.privacy.epsilon)} at δ ${c.privacy.delta} (${c.privacy.mechanism} noise)`}
          {c.privacy.assumption ? `, ${c.privacy.assumption}` : ''}. {c.privacy.note}
        </dd>
        <dt>Measured</dt>
        <dd data-testid="card-metrics">
          {m.accuracy === undefined
            ? 'not measured: no evaluation set registered'
            : `accuracy ${formatPercent(m.accuracy)}, macro F1 ${m.macroF1?.toFixed(3) ?? '—'}, calibration error ${m.ece?.toFixed(3) ?? '—'}${m.auroc === undefined ? '' : `, AUROC ${m.auroc.toFixed(3)}`}`}
        </dd>
      </dl>
      <button type="button" class="secondary" onClick={p.onClose}>
        Close the model card
      </button>
    </section>
  );
}

function Students(p: PageProps & { federation: Federation }) {
  const { data, error } = usePolling(
    `students:${p.federation.id}`,
    () =>
      p.api.get<{ students: Student[] }>(
        `/api/v1/federations/${encodeURIComponent(p.federation.id)}/students`,
      ),
    () => 3000,
  );
  const [open, setOpen] = useState<number | null>(null);
  if (error) return <Problem error={error} />;
  if (!data) return <Loading what="students" />;
  const students = [...data.students].sort((a, b) => a.version - b.version);
  const shown = students.find((s) => s.version === open);
  return (
    <>
      {students.length === 0 ? (
        <p>No student yet: the coordinator trains one after each completed distillation round.</p>
      ) : (
        <table data-testid="students">
          <caption>
            Students by the rounds they were trained from; accuracy on the coordinator's evaluation set
          </caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Up to round</th>
              <th scope="col">Accuracy</th>
              <th scope="col">ε (federation)</th>
              <th scope="col">Published</th>
              <th scope="col">Model card</th>
            </tr>
          </thead>
          <tbody>
            {students.map((s) => (
              <tr key={s.version}>
                <th scope="row">v{s.version}</th>
                <td>{Math.max(...s.rounds)}</td>
                <td>{formatPercent(s.modelCard.metrics.accuracy)}</td>
                <td>{formatEpsilon(s.modelCard.privacy.epsilon)}</td>
                <td>{new Date(s.publishedAt).toLocaleString()}</td>
                <td>
                  <button
                    type="button"
                    class="secondary"
                    aria-expanded={open === s.version}
                    onClick={() => setOpen(s.version)}
                  >
                    Open<span class="visually-hidden"> the model card of v{s.version}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && <ModelCardView student={shown} onClose={() => setOpen(null)} />}
    </>
  );
}

export function StudentsPage(p: PageProps) {
  return (
    <Page
      title="Students"
      intro="The shared models the coordinator distilled from the sites' noised, securely aggregated answers, one per completed round, with their model cards."
    >
      <WithFederation {...p}>{(f) => <Students {...p} federation={f} />}</WithFederation>
    </Page>
  );
}
