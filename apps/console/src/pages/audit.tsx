import { useState } from 'preact/hooks';
import { timeAgo } from '../format';
import { usePolling } from '../hooks';
import type { TranscriptStatus } from '../types';
import { Loading, Page, Problem } from './common';
import type { PageProps } from './props';

export function AuditPage(p: PageProps) {
  const { data, error, refresh } = usePolling(
    'audit',
    () => p.api.get<TranscriptStatus>('/api/v1/console/audit'),
    () => 10_000,
  );
  const [downloadError, setDownloadError] = useState<string | undefined>(undefined);
  const download = (format: 'html' | 'md' | 'json') =>
    p.api
      .download(`/api/v1/console/audit/report?format=${format}`, `coordinator-audit-report.${format}`)
      .then(
        () => setDownloadError(undefined),
        (err: Error) => setDownloadError(err.message),
      );
  const now = Date.now();
  return (
    <Page
      title="Audit"
      intro="The coordinator keeps a signed, hash-chained transcript of everything it did. Each site keeps its own log and sends its signed log head (an anchor), so neither side can rewrite its log unnoticed."
    >
      <Problem error={error ?? downloadError} />
      {!data ? (
        <Loading what="the verification" />
      ) : (
        <>
          <div class={`verdict ${data.ok ? 'good' : 'bad'}`} role="status" data-testid="audit-verdict">
            <strong>{data.ok ? 'Transcript verified' : 'Transcript does NOT verify'}</strong>:{' '}
            {data.ok
              ? `${data.entries} entries, chain and signature intact (head #${data.head?.seq ?? '?'}).`
              : `entry ${data.problem?.position ?? '?'} (seq ${data.problem?.seq ?? '?'}), field ${data.problem?.field ?? '?'}: ${data.problem?.reason ?? ''}`}
          </div>
          <dl class="facts">
            <dt>Coordinator key</dt>
            <dd>
              <code>{data.publicKey}</code>
            </dd>
            <dt>Checked</dt>
            <dd>
              {timeAgo(data.checkedAt, now)}{' '}
              <button type="button" class="secondary" onClick={refresh}>
                Check again
              </button>
            </dd>
          </dl>
          <table data-testid="anchors">
            <caption>
              Anchors received from the sites (their signed log heads, checked with each site's enrolled key)
            </caption>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Received</th>
                <th scope="col">Signature verifies</th>
                <th scope="col">Latest covers its log up to</th>
                <th scope="col">Signed</th>
              </tr>
            </thead>
            <tbody>
              {data.anchors.map((a) => (
                <tr key={a.site}>
                  <th scope="row">{a.site}</th>
                  <td>{a.received}</td>
                  <td class={a.verified < a.received ? 'warn' : undefined}>
                    {a.received === 0
                      ? '—'
                      : a.verified === a.received
                        ? `all ${a.received}`
                        : `${a.verified} of ${a.received}`}
                  </td>
                  <td>{a.latest ? `entry ${a.latest.sequence}` : 'none yet'}</td>
                  <td>{a.latest ? timeAgo(a.latest.signedAt, now) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h3>Audit report</h3>
      <p>
        The transcript's report (what was sent, by whom, and the privacy spent), as "fedistill audit report"
        writes it.
      </p>
      <div class="actions">
        <button type="button" onClick={() => void download('html')}>
          Download the report (HTML)
        </button>
        <button type="button" class="secondary" onClick={() => void download('md')}>
          Markdown
        </button>
        <button type="button" class="secondary" onClick={() => void download('json')}>
          JSON
        </button>
      </div>
    </Page>
  );
}
