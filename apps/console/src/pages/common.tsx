import type { ComponentChildren } from 'preact';
import { usePolling } from '../hooks';
import type { Federation } from '../types';
import type { PageProps } from './props';

export function Problem(p: { error: string | undefined }) {
  return p.error ? (
    <p class="error" role="alert">
      {p.error}
    </p>
  ) : null;
}

export function Loading(p: { what: string }) {
  return <p aria-live="polite">Loading {p.what}…</p>;
}

/** The federations and which one the page shows (the route's, else the first). */
export function useFederations(p: PageProps): {
  federations: Federation[] | undefined;
  current: Federation | undefined;
  error: string | undefined;
} {
  const { data, error } = usePolling(
    'federations',
    () => p.api.get<{ federations: Federation[] }>('/api/v1/federations'),
    () => 10_000,
  );
  const federations = data?.federations;
  const current = federations?.find((f) => f.id === p.route.federation) ?? federations?.[0];
  return { federations, current, error };
}

/** A labelled select of the federation the page is about. */
export function FederationPicker(p: PageProps & { federations: Federation[]; current: Federation }) {
  return (
    <div class="picker">
      <label for="federation">Federation</label>
      <select
        id="federation"
        value={p.current.id}
        onChange={(e) => p.go({ page: p.route.page, federation: (e.target as HTMLSelectElement).value })}
      >
        {p.federations.map((f) => (
          <option key={f.id} value={f.id}>
            {f.id}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The page's frame: heading, one-line explanation, then the content. */
export function Page(p: { title: string; intro: string; children: ComponentChildren }) {
  return (
    <section aria-labelledby="page-title">
      <h2 id="page-title">{p.title}</h2>
      <p class="intro">{p.intro}</p>
      {p.children}
    </section>
  );
}

/** For pages about one federation: the picker, or a note that none exists yet. */
export function WithFederation(p: PageProps & { children: (f: Federation) => ComponentChildren }) {
  const { federations, current, error } = useFederations(p);
  if (error) return <Problem error={error} />;
  if (!federations) return <Loading what="federations" />;
  if (!current)
    return (
      <p>No federation exists yet. An operator creates one with "fedistill coordinator federation create".</p>
    );
  return (
    <>
      <FederationPicker {...p} federations={federations} current={current} />
      {p.children(current)}
    </>
  );
}
