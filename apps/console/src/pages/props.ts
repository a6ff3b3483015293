import type { Api } from '../api';
import type { Route } from '../route';
import type { Role } from '../types';

/** What every page gets from the shell. */
export interface PageProps {
  readonly api: Api;
  readonly role: Role;
  readonly route: Route;
  readonly go: (route: Route) => void;
}
