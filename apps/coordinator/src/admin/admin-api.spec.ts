import { describeAccessControl } from './access-control.cases';
import { type AdminApp, startAdminApp } from './admin-app.testing';
import { describeBadInput } from './bad-input.cases';
import { describeServedContract } from './openapi.cases';

/** The admin API's integration cases, on one real application (it takes seconds to boot). */
describe('admin API (the real Nest application on loopback)', () => {
  let app: AdminApp;
  beforeAll(async () => {
    app = await startAdminApp();
  }, 60_000);
  afterAll(() => app.close());

  describeAccessControl(() => app);
  describeBadInput(() => app);
  describeServedContract(() => app);
});
