import { useState } from 'preact/hooks';
import { timeAgo } from '../format';
import { usePolling } from '../hooks';
import type { Site } from '../types';
import { Loading, Page, Problem } from './common';
import type { PageProps } from './props';

export function SitesPage(p: PageProps) {
  const { data, error, refresh } = usePolling(
    'sites',
    () => p.api.get<{ sites: Site[] }>('/api/v1/sites'),
    () => 3000,
  );
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const revoke = async (site: string) => {
    if (!confirm(`Revoke site '${site}'? It can no longer connect or take part in rounds.`)) return;
    try {
      await p.api.post(`/api/v1/sites/${encodeURIComponent(site)}/revoke`, {
        reason: 'revoked from the console',
      });
      setActionError(undefined);
    } catch (err) {
      setActionError((err as Error).message);
    }
    refresh();
  };
  const now = Date.now();
  return (
    <Page
      title="Sites"
      intro="Every enrolled site (a hospital's node): whether it is connected now, when the coordinator last heard from it, and whether it was revoked. Updates every 3 seconds."
    >
      <Problem error={error ?? actionError} />
      {!data ? (
        <Loading what="sites" />
      ) : data.sites.length === 0 ? (
        <p>
          No site has enrolled yet. Create an enrolment token with "fedistill coordinator token create --site
          NAME".
        </p>
      ) : (
        <table data-testid="sites">
          <caption class="visually-hidden">Enrolled sites</caption>
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Status</th>
              <th scope="col">Last seen</th>
              <th scope="col">Node version</th>
              <th scope="col">Enrolled</th>
              <th scope="col">Key (Ed25519)</th>
              {p.role === 'operator' && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {data.sites.map((s) => (
              <tr key={s.name}>
                <th scope="row">{s.name}</th>
                <td>
                  {s.revoked ? (
                    <span class="badge bad" title={s.revokedReason ?? undefined}>
                      revoked {s.revokedAt ? timeAgo(s.revokedAt, now) : ''}
                    </span>
                  ) : s.online ? (
                    <span class="badge good">online</span>
                  ) : (
                    <span class="badge muted">offline</span>
                  )}
                </td>
                <td>
                  <time dateTime={s.lastSeenAt ?? undefined} title={s.lastSeenAt ?? undefined}>
                    {timeAgo(s.lastSeenAt, now)}
                  </time>
                </td>
                <td>{s.nodeVersion ?? 'not reported'}</td>
                <td>
                  <time dateTime={s.enrolledAt}>{new Date(s.enrolledAt).toLocaleString()}</time>
                </td>
                <td>
                  <code title={s.signingPublicKey}>{s.signingPublicKey.slice(0, 16)}…</code>
                </td>
                {p.role === 'operator' && (
                  <td>
                    {!s.revoked && (
                      <button type="button" class="danger" onClick={() => void revoke(s.name)}>
                        Revoke<span class="visually-hidden"> {s.name}</span>
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
