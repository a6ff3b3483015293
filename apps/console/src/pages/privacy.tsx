import { EpsilonChart } from '../epsilon-chart';
import { formatEpsilon, isOpen } from '../format';
import { usePolling } from '../hooks';
import type { Federation, PrivacyBySite, Round } from '../types';
import { Loading, Page, Problem, WithFederation } from './common';
import type { PageProps } from './props';

function Privacy(p: PageProps & { federation: Federation }) {
  const id = encodeURIComponent(p.federation.id);
  const { data, error } = usePolling(
    `privacy:${p.federation.id}`,
    async () => {
      const [privacy, rounds] = await Promise.all([
        p.api.get<PrivacyBySite>(`/api/v1/console/federations/${id}/privacy`),
        p.api.get<{ rounds: Round[] }>(`/api/v1/federations/${id}/rounds`),
      ]);
      return { privacy, live: isOpen(rounds.rounds) };
    },
    (d) => (d?.live ? 1000 : 3000),
  );
  if (error) return <Problem error={error} />;
  if (!data) return <Loading what="privacy spending" />;
  const pv = data.privacy;
  const sites = Object.keys(pv.siteLimits).sort();
  const last = pv.points.at(-1);
  return (
    <>
      <p data-testid="privacy-summary">
        {last
          ? `After round ${last.round}: the federation has spent ε ${formatEpsilon(last.federation)}${pv.epsilonCap === null ? '' : ` of its cap ${formatEpsilon(pv.epsilonCap)}`} (δ ${pv.delta}).`
          : 'No round has run yet: nothing is spent.'}
      </p>
      {pv.points.length > 0 && <EpsilonChart privacy={pv} />}
      <table data-testid="privacy-table">
        <caption>ε after each round (three significant digits)</caption>
        <thead>
          <tr>
            <th scope="col">Round</th>
            <th scope="col">Outcome</th>
            <th scope="col">Federation</th>
            {sites.map((s) => (
              <th scope="col" key={s}>
                {s}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {pv.points.map((pt) => (
            <tr key={pt.round}>
              <th scope="row">{pt.round}</th>
              <td>{pt.status}</td>
              <td>{formatEpsilon(pt.federation)}</td>
              {sites.map((s) => (
                <td key={s}>{formatEpsilon(pt.sites[s])}</td>
              ))}
            </tr>
          ))}
          <tr class="limits">
            <th scope="row">Limit</th>
            <td />
            <td>{pv.epsilonCap === null ? 'no cap' : `cap ${formatEpsilon(pv.epsilonCap)}`}</td>
            {sites.map((s) => (
              <td key={s}>{pv.siteLimits[s] === null ? 'not reported' : formatEpsilon(pv.siteLimits[s])}</td>
            ))}
          </tr>
        </tbody>
      </table>
      <p class="note">
        Each figure is the total after that round, not the round's own cost: rounds compose by Rényi
        differential privacy (Mironov 2017), which grows more slowly than a sum, so per-round costs would add
        up to more than the total. A site is charged for each round whose masked input it sent. These are the
        coordinator's figures from the announced noise; each site's own ledger is authoritative, and a site
        tells its own limit only when it refuses a round.
      </p>
    </>
  );
}

export function PrivacyPage(p: PageProps) {
  return (
    <Page
      title="Privacy"
      intro="Epsilon (ε) spent by the federation and by each site over the rounds, against the federation's cap and each site's own limit. Lower is more private."
    >
      <WithFederation {...p}>{(f) => <Privacy {...p} federation={f} />}</WithFederation>
    </Page>
  );
}
