import { useState } from 'preact/hooks';
import { isOpen, participantState, STAGE_LABELS, stageSteps } from '../format';
import { usePolling } from '../hooks';
import type { Federation, Round } from '../types';
import { Loading, Page, Problem, WithFederation } from './common';
import type { PageProps } from './props';

function Stepper(p: { round: Round }) {
  return (
    <ol class="stepper" aria-label={`Stages of round ${p.round.round}`}>
      {stageSteps(p.round).map((s) => (
        <li key={s.stage} class={`step ${s.state}`}>
          <span class="visually-hidden">{`${s.state}: `}</span>
          {STAGE_LABELS[s.stage]}
        </li>
      ))}
    </ol>
  );
}

function RoundCard(p: { round: Round }) {
  const r = p.round;
  const status = r.status === 'open' ? `open: ${r.stage}` : r.status;
  return (
    <article
      class={`round ${r.status}`}
      data-testid={`round-${r.round}`}
      aria-labelledby={`round-${r.round}-title`}
    >
      <h4 id={`round-${r.round}-title`}>
        Round {r.round}{' '}
        <span class="muted">
          ({r.kind === 'evaluation' ? 'evaluation' : `distillation, ${r.queries} queries`})
        </span>{' '}
        <span
          class={`badge ${r.status === 'completed' ? 'good' : r.status === 'abandoned' ? 'bad' : 'live'}`}
          data-testid="round-status"
        >
          {status}
        </span>
      </h4>
      <Stepper round={r} />
      {r.reason && <p class="error">Abandoned: {r.reason}</p>}
      <table class="compact">
        <caption class="visually-hidden">What each site did in round {r.round}</caption>
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col">In this round</th>
          </tr>
        </thead>
        <tbody>
          {r.participants.map((site) => {
            const state = participantState(r, site);
            const decline = r.declines.find((d) => d.site === site);
            return (
              <tr key={site}>
                <th scope="row">{site}</th>
                <td class={decline || state.startsWith('dropped') ? 'warn' : undefined}>
                  {state}
                  {decline && <div class="detail">{decline.detail}</div>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {r.evaluation && (
        <p>
          Student v{r.evaluation.studentVersion} at the sites: accuracy{' '}
          {r.evaluation.accuracy === null ? '—' : `${(r.evaluation.accuracy * 100).toFixed(1)}%`} over about{' '}
          {r.evaluation.records} records.
        </p>
      )}
      {r.student?.version !== undefined && <p>Student v{r.student.version} was trained from it.</p>}
    </article>
  );
}

function Rounds(p: PageProps & { federation: Federation }) {
  const id = p.federation.id;
  const path = `/api/v1/federations/${encodeURIComponent(id)}/rounds`;
  const { data, error, refresh } = usePolling(
    `rounds:${id}`,
    () => p.api.get<{ rounds: Round[] }>(path),
    (d) => (d && isOpen(d.rounds) ? 1000 : 3000),
  );
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const start = async (body: Record<string, unknown>) => {
    setBusy(true);
    try {
      await p.api.post(path, body);
      setActionError(undefined);
    } catch (err) {
      setActionError((err as Error).message);
    } finally {
      setBusy(false);
      refresh();
    }
  };
  const rounds = data ? [...data.rounds].sort((a, b) => b.round - a.round) : undefined;
  const open = rounds ? isOpen(rounds) : false;
  return (
    <>
      <dl class="facts">
        <dt>Members</dt>
        <dd>{p.federation.members.join(', ') || 'none yet'}</dd>
        <dt>Rounds</dt>
        <dd>
          at least {p.federation.rounds.minSites} sites, {p.federation.rounds.queriesPerRound} queries each
          {p.federation.rounds.maxRounds ? `, at most ${p.federation.rounds.maxRounds} rounds` : ''}
        </dd>
        <dt>Privacy</dt>
        <dd>
          {p.federation.privacyOff
            ? 'OFF (experiments only)'
            : `${p.federation.privacy.mechanism} noise, cap ε ${p.federation.privacy.epsilonCap ?? '—'} at δ ${p.federation.privacy.delta}`}
        </dd>
      </dl>
      {p.role === 'operator' && (
        <div class="actions" data-testid="round-actions">
          <button type="button" disabled={busy || open} onClick={() => void start({})}>
            Start a distillation round
          </button>
          <button
            type="button"
            class="secondary"
            disabled={busy || open}
            onClick={() => void start({ evaluate: true })}
          >
            Start an evaluation round
          </button>
          {open && <span class="muted">A round is open: wait for it to finish.</span>}
        </div>
      )}
      <Problem error={error ?? actionError} />
      <h3>Rounds {open && <span class="badge live">live</span>}</h3>
      <div aria-live="polite" aria-busy={!data} data-testid={rounds ? 'rounds' : undefined}>
        {!rounds ? (
          <Loading what="rounds" />
        ) : rounds.length === 0 ? (
          <p>No round yet.</p>
        ) : (
          rounds.map((r) => <RoundCard key={r.round} round={r} />)
        )}
      </div>
    </>
  );
}

export function FederationsPage(p: PageProps) {
  return (
    <Page
      title="Federations and rounds"
      intro="A round passes through the secure-aggregation stages: the sites exchange keys, then secret shares, then send masked inputs; the survivors confirm who is left, and the coordinator unmasks only the sum. Sites that refuse (their privacy limit, the roster) or drop out are shown. Updates every second while a round is open."
    >
      <WithFederation {...p}>{(f) => <Rounds {...p} federation={f} />}</WithFederation>
    </Page>
  );
}
