import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { splitBreastCancer, npyInputs, npyLabels } from '../../apps/cli/src/demo/demo-data';
import {
  admin,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import {
  ARTIFACTS,
  CHROMIUM,
  launchChromium,
  screenshot,
  textOf,
  waitForSelector,
  watchPage,
} from './support/chromium';
import { createBreastCancerFederation, prepareSiteNode, uploadReference } from './support/site-nodes';

const REPO = path.resolve(__dirname, '..', '..');
const SITES = ['st-marys', 'riverside', 'northgate'];
const FEDERATION = 'console-watch';

const suite = CHROMIUM ? describe : describe.skip;

/**
 * The dashboard in real Chromium (Debian's package, driven by puppeteer-core), against a real
 * coordinator and three real node processes over TLS: sign in, watch a round pass through the
 * secure-aggregation stages live, see the epsilon plot follow, open the model card of the
 * student it produced, and check the transcript's verification and its report download.
 */
suite(
  CHROMIUM
    ? 'console in Chromium'
    : 'console in Chromium (skipped: no Chromium at /usr/bin/chromium; apt-get install chromium)',
  () => {
    let fx: CoordinatorFixture;
    let browser: Browser;
    let launched: Promise<Browser> | undefined;
    const nodes: ChildProcess[] = [];
    const dirs: Record<string, string> = {};

    beforeAll(async () => {
      launched = launchChromium();
      fx = await startCoordinatorProcess({ heartbeatInterval: '1s', offlineAfter: '4s' });
      const split = await splitBreastCancer(REPO, SITES.length);
      // The three enrolments side by side: each is a few CLI processes, slow on a loaded machine.
      await Promise.all(
        SITES.map(async (site, i) => {
          const dir = await enrolNodeWithCli(fx, site);
          dirs[site] = dir;
          prepareSiteNode(dir, split.hospitals[i]!, {
            teachers: { count: 3, hidden: [8], epochs: 10, batchSize: 8 },
            epsilonLimit: 100,
          });
          nodes.push(spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, `${site}.log`)));
        }),
      );
      const referenceSha256 = await uploadReference(fx, split.reference);
      await waitFor('every node online', 60_000, async () => {
        const { body } = await admin<{ sites: { online: boolean }[] }>(fx, 'GET', '/api/v1/sites');
        return body.sites.length === SITES.length && body.sites.every((s) => s.online) ? true : undefined;
      });
      await createBreastCancerFederation(fx, {
        id: FEDERATION,
        referenceSha256,
        members: SITES,
        dirs,
        noiseMultiplier: 2,
        epsilonCap: 40,
        summary: 'votes',
        rounds: { minSites: 3, queriesPerRound: 20, maxRounds: 3 },
      });
      const form = new FormData();
      form.append('inputs', new Blob([npyInputs(split.evaluation)]), 'inputs.npy');
      form.append('labels', new Blob([npyLabels(split.evaluation)]), 'labels.npy');
      const put = await fetch(`${fx.adminUrl}/api/v1/federations/${FEDERATION}/evaluation-set`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${fx.operatorToken}` },
        body: form,
      });
      if (!put.ok) throw new Error(`evaluation set refused: ${await put.text()}`);
      browser = await launched;
      // Generous for a loaded 2-core machine: three node processes enrol and train their teachers.
    }, 240_000);

    afterAll(async () => {
      // Closed even when the set-up failed after the launch.
      await (await launched?.catch(() => undefined))?.close();
      for (const n of nodes) n.kill('SIGTERM');
      await Promise.all(nodes.map((n) => exited(n)));
      await fx?.stop();
    });

    async function signIn(token: string, hash = ''): Promise<Page> {
      const page = watchPage(await browser.newPage());
      await page.goto(`${fx.adminUrl}/console/${hash}`);
      await page.type('#token', token);
      await page.click('button[type=submit]');
      await waitForSelector(page, '[data-testid=role]', 'sign-in');
      return page;
    }

    it('refuses a wrong token on the sign-in page, naming the problem', async () => {
      const page = await browser.newPage();
      await page.goto(`${fx.adminUrl}/console/`);
      expect(await page.$eval('label[for=token]', (l) => l.textContent)).toBe('Access token');
      await page.type('#token', 'not-the-token');
      await page.click('button[type=submit]');
      await page.waitForSelector('#login-error');
      expect(await textOf(page, '#login-error')).toMatch(
        /^The coordinator refused this token: wrong operator token/,
      );
      await page.close();
    });

    it('shows the sites, then a round live through its stages to completion, the epsilon plot, the model card and the audit', async () => {
      const page = await signIn(fx.operatorToken, '#/sites');
      expect(await textOf(page, '[data-testid=role]')).toContain('operator');
      await page.waitForFunction(
        // Online, and each node's version from its heartbeats in the fourth column.
        `document.querySelectorAll('[data-testid=sites] tbody .badge.good').length === ${SITES.length} &&
         [...document.querySelectorAll('[data-testid=sites] tbody td:nth-of-type(3)')].every((c) => /^\\d+\\.\\d+\\.\\d+/.test(c.textContent))`,
        { timeout: 20_000 },
      );
      await screenshot(page, 'console-sites');

      // A second tab on the privacy page, left open: its plot must follow the round by itself.
      const privacy = await signIn(fx.operatorToken, `#/privacy/${FEDERATION}`);
      await privacy.waitForSelector('[data-testid=privacy-summary]');
      expect(await textOf(privacy, '[data-testid=privacy-summary]')).toContain('No round has run yet');
      expect(await privacy.$('[data-testid=epsilon-chart] canvas')).toBeNull();

      // Chromium renders only the front tab; clicks wait for a rendered frame.
      await page.bringToFront();
      await page.goto(`${fx.adminUrl}/console/#/federations/${FEDERATION}`);
      await waitForSelector(page, '[data-testid=round-actions] button:not([disabled])', 'operator-rounds');
      const start = await page.$$('[data-testid=round-actions] button');
      await start[0]!.click();
      const seen: string[] = [];
      let shot = false;
      const watching = waitFor('round 1 to finish in the browser', 180_000, async () => {
        const status = (await textOf(page, '[data-testid=round-1] [data-testid=round-status]')).trim();
        if (status && seen.at(-1) !== status) seen.push(status);
        if (status.startsWith('open') && !shot) {
          shot = true;
          await screenshot(page, 'console-round-live');
        }
        return status === 'completed' || status === 'abandoned' ? status : undefined;
      });
      await watching.catch(async (err: Error) => {
        await screenshot(page, 'round-failed');
        throw new Error(`${err.message}; statuses seen: ${seen.join(' -> ') || 'none'}`);
      });
      expect(seen.at(-1)).toBe('completed');
      // Seen open on the way (the page polls every second while a round is open).
      expect(seen.some((s) => s.startsWith('open: '))).toBe(true);
      expect(await page.$$eval('[data-testid=round-1] .step.done', (e) => e.length)).toBe(5);
      await screenshot(page, 'console-rounds');

      // The privacy tab updated without a reload: round 1 in its table, the plot drawn.
      await privacy.bringToFront();
      await privacy.waitForSelector('[data-testid=epsilon-chart] canvas', { timeout: 20_000 });
      const { body: pv } = await admin<{ points: { round: number; federation: number }[] }>(
        fx,
        'GET',
        `/api/v1/console/federations/${FEDERATION}/privacy`,
      );
      expect(pv.points[0]!.federation).toBeGreaterThan(0);
      const row = await privacy.$$eval('[data-testid=privacy-table] tbody tr', (rows) =>
        rows.map((r) => [...r.children].map((c) => c.textContent ?? '')),
      );
      expect(row[0]!.slice(0, 3)).toEqual([
        '1',
        'completed',
        String(Number(pv.points[0]!.federation.toPrecision(3))),
      ]);
      await screenshot(privacy, 'console-privacy');

      await page.bringToFront();
      await page.goto(`${fx.adminUrl}/console/#/students/${FEDERATION}`);
      await page.waitForSelector('[data-testid=students] tbody button', { timeout: 60_000 });
      await page.click('[data-testid=students] tbody button');
      await page.waitForSelector('[data-testid=model-card]');
      expect(await textOf(page, '[data-testid=card-metrics]')).toMatch(/^accuracy \d+\.\d%/);
      expect(await textOf(page, '[data-testid=card-privacy]')).toMatch(/^ε \d/);
      await screenshot(page, 'console-students');

      await page.goto(`${fx.adminUrl}/console/#/audit`);
      await page.waitForSelector('[data-testid=audit-verdict]');
      expect(await textOf(page, '[data-testid=audit-verdict]')).toMatch(/^Transcript verified/);
      const anchorSites = await page.$$eval('[data-testid=anchors] tbody th', (h) =>
        h.map((e) => e.textContent),
      );
      expect(anchorSites).toEqual([...SITES].sort());
      const downloads = path.join(ARTIFACTS, 'downloads');
      fs.rmSync(downloads, { recursive: true, force: true });
      const cdp = await page.createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
      const [download] = await page.$$('section .actions button');
      await download!.click();
      const report = path.join(downloads, 'coordinator-audit-report.html');
      await waitFor('the downloaded report', 20_000, () => (fs.existsSync(report) ? true : undefined));
      expect(fs.readFileSync(report, 'utf8')).toMatch(/<html/i);
      await screenshot(page, 'console-audit');
      await privacy.close();
      await page.close();
      // A round with three real nodes: generous for a loaded machine (about 40 s on an idle one).
    }, 300_000);

    it("shows an auditor everything but the controls that change state, and the API refuses the auditor's direct calls", async () => {
      const roundsBefore = (
        await admin<{ rounds: unknown[] }>(fx, 'GET', `/api/v1/federations/${FEDERATION}/rounds`)
      ).body.rounds.length;
      const created = await admin<{ token: string }>(fx, 'POST', '/api/v1/access-tokens', {
        name: 'privacy-officer',
        role: 'auditor',
        ttl: '1h',
      });
      expect(created.status).toBe(201);
      const page = await signIn(created.body.token, '#/sites');
      expect(await textOf(page, '[data-testid=role]')).toBe(
        'Signed in as privacy-officer (auditor, read-only)',
      );
      await page.waitForSelector('[data-testid=sites] tbody tr');
      expect(await page.$$('[data-testid=sites] button')).toEqual([]);
      await screenshot(page, 'console-auditor-sites');

      await page.goto(`${fx.adminUrl}/console/#/federations/${FEDERATION}`);
      await waitForSelector(page, '[data-testid=rounds]', 'auditor-rounds');
      expect(await page.$('[data-testid=round-actions]')).toBeNull();
      expect(await page.$$eval('main button', (b) => b.map((e) => e.textContent))).toEqual([]);

      // The same calls the operator's buttons make, sent from the page with the auditor's token.
      const refused = await page.evaluate(
        async (token, federation) => {
          const call = async (path: string, body: unknown) => {
            const res = await fetch(path, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
            return [res.status, ((await res.json()) as { error: string }).error] as const;
          };
          return [
            await call(`/api/v1/federations/${federation}/rounds`, {}),
            await call('/api/v1/sites/st-marys/revoke', { reason: 'test' }),
          ];
        },
        created.body.token,
        FEDERATION,
      );
      expect(refused.map(([status]) => status)).toEqual([403, 403]);
      expect(refused[0]![1]).toMatch(/^role 'auditor' is read-only/);
      const { body } = await admin<{ rounds: unknown[] }>(
        fx,
        'GET',
        `/api/v1/federations/${FEDERATION}/rounds`,
      );
      expect(body.rounds).toHaveLength(roundsBefore);
      const { body: sites } = await admin<{ sites: { revoked: boolean }[] }>(fx, 'GET', '/api/v1/sites');
      expect(sites.sites.every((s) => !s.revoked)).toBe(true);

      await page.goto(`${fx.adminUrl}/console/#/audit`);
      await page.waitForSelector('[data-testid=audit-verdict]');
      expect(await textOf(page, '[data-testid=audit-verdict]')).toMatch(/^Transcript verified/);
      await page.close();
    });
  },
);
