import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, ApiError, tokenStore } from './api';
import { AuditPage } from './pages/audit';
import { FederationsPage } from './pages/federations';
import { LoginPage } from './pages/login';
import { PrivacyPage } from './pages/privacy';
import { SitesPage } from './pages/sites';
import { StudentsPage } from './pages/students';
import { PAGES, parseRoute, type Route, routeHash } from './route';
import type { WhoAmI } from './types';

function useRoute(): [Route, (r: Route) => void] {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return [route, (r) => (location.hash = routeHash(r))];
}

export function App() {
  const [token, setToken] = useState(tokenStore.read);
  const [me, setMe] = useState<WhoAmI | undefined>(undefined);
  const [loginError, setLoginError] = useState<string | undefined>(undefined);
  const [route, go] = useRoute();
  const api = useMemo(() => (token ? new Api(token) : undefined), [token]);

  useEffect(() => {
    if (!api) return;
    api.get<WhoAmI>('/api/v1/whoami').then(setMe, (err: Error) => {
      tokenStore.clear();
      setToken(null);
      setLoginError(
        err instanceof ApiError && err.status === 401
          ? `The coordinator refused this token: ${err.message}`
          : err.message,
      );
    });
  }, [api]);

  useEffect(() => {
    const page = PAGES.find((p) => p.id === route.page);
    document.title = `${page?.title ?? 'Console'} · fedistill console`;
  }, [route.page]);

  if (!api || !me)
    return (
      <LoginPage
        checking={Boolean(api)}
        error={loginError}
        onToken={(t) => {
          setLoginError(undefined);
          tokenStore.write(t);
          setToken(t);
        }}
      />
    );

  const signOut = () => {
    tokenStore.clear();
    setMe(undefined);
    setToken(null);
  };
  const props = { api, role: me.role, route, go };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1>fedistill console</h1>
        <p class="who" data-testid="role">
          Signed in as <strong>{me.name}</strong> ({me.role === 'auditor' ? 'auditor, read-only' : 'operator'}
          )
        </p>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Pages">
        <ul>
          {PAGES.map((p) => (
            <li key={p.id}>
              <a
                href={routeHash({ page: p.id, federation: route.federation })}
                aria-current={p.id === route.page ? 'page' : undefined}
              >
                {p.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {route.page === 'sites' && <SitesPage {...props} />}
        {route.page === 'federations' && <FederationsPage {...props} />}
        {route.page === 'privacy' && <PrivacyPage {...props} />}
        {route.page === 'students' && <StudentsPage {...props} />}
        {route.page === 'audit' && <AuditPage {...props} />}
      </main>
    </>
  );
}
