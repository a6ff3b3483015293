import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';

/** Debian's chromium (installed by .ci/run), or CHROMIUM_PATH; never a downloaded browser. */
export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => Boolean(p) && fs.existsSync(p as string),
);

/** Where the browser tests leave their screenshots (gitignored). */
export const ARTIFACTS = path.resolve(__dirname, '..', '..', '..', 'tmp', 'e2e-artifacts', 'console');

/** The screenshots docs/console.md shows, rewritten when FEDISTILL_UPDATE_SCREENSHOTS=1. */
const DOCS_IMG = path.resolve(__dirname, '..', '..', '..', 'docs', 'img');

export async function launchChromium(): Promise<Browser> {
  const { launch } = await import('puppeteer-core');
  return launch({
    executablePath: CHROMIUM,
    headless: true,
    // The sandbox needs user namespaces that CI containers (root) lack; the page is our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--force-color-profile=srgb'],
    defaultViewport: { width: 1280, height: 800 },
  });
}

/** Saves a screenshot as a test artifact (and into docs/img when asked to update them). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`) as `${string}.png`;
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.FEDISTILL_UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(DOCS_IMG, { recursive: true });
    fs.copyFileSync(file, path.join(DOCS_IMG, `${name}.png`));
  }
}

/** The visible text of the first element matching `selector` ('' when there is none). */
export async function textOf(page: Page, selector: string): Promise<string> {
  const found = await page.$(selector);
  return found ? ((await found.evaluate((e) => e.textContent)) ?? '') : '';
}

/** What went wrong inside a page (uncaught errors, console errors, failed requests), for failures. */
const problems = new WeakMap<Page, string[]>();

export function watchPage(page: Page): Page {
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('pageerror', (err) => seen.push(`page error: ${(err as Error).message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) seen.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return page;
}

/**
 * Waits for `selector`; on a timeout, saves a screenshot (NAME-failed.png) and fails with what
 * the page reported, so a failure in CI says why.
 */
export async function waitForSelector(
  page: Page,
  selector: string,
  name: string,
  timeout = 30_000,
): Promise<void> {
  try {
    await page.waitForSelector(selector, { timeout });
  } catch (err) {
    await screenshot(page, `${name}-failed`).catch(() => undefined);
    const seen = problems.get(page) ?? [];
    throw new Error(
      `${selector} did not appear within ${timeout} ms at ${page.url()}: ${(err as Error).message}\n${seen.join('\n') || '(the page reported no error)'}\nscreenshot: ${ARTIFACTS}/${name}-failed.png`,
    );
  }
}
