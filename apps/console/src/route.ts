/** The pages of the dashboard, in the navigation's order. */
export const PAGES = [
  { id: 'sites', title: 'Sites' },
  { id: 'federations', title: 'Federations and rounds' },
  { id: 'privacy', title: 'Privacy' },
  { id: 'students', title: 'Students' },
  { id: 'audit', title: 'Audit' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

export interface Route {
  readonly page: PageId;
  /** The federation the page is about (federations, privacy, students), when one is chosen. */
  readonly federation: string | null;
}

/** "#/privacy/breast-cancer" → {page: 'privacy', federation: 'breast-cancer'}; anything else → sites. */
export function parseRoute(hash: string): Route {
  const [page, federation] = hash.replace(/^#\/?/, '').split('/');
  const known = PAGES.find((p) => p.id === page);
  return {
    page: known ? known.id : 'sites',
    federation: federation ? decodeURIComponent(federation) : null,
  };
}

export function routeHash(route: Route): string {
  return `#/${route.page}${route.federation ? `/${encodeURIComponent(route.federation)}` : ''}`;
}
