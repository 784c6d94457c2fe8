/**
 * Opens files in the system's headless Chromium (Debian's `chromium`, driven by
 * playwright-core, which downloads no browser of its own) and records what a person would
 * notice: console errors, page errors, dialogs, and any request besides the file itself.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';

export const CHROMIUM = process.env['LOOPWATCH_TEST_CHROMIUM'] ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether the browser tests run here. CI installs chromium (.ci/run) and must never skip them;
 * elsewhere they are skipped, with the reason in the test's name.
 */
export const HAVE_CHROMIUM = existsSync(CHROMIUM) || process.env['CI'] !== undefined;

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is needed to test the HTML report and is not at ${CHROMIUM}: install it (apt-get install --no-install-recommends chromium; .ci/run does) or set LOOPWATCH_TEST_CHROMIUM`,
    );
  }
  // A default launch uses a fresh, temporary profile each time.
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface Opened {
  readonly page: Page;
  /** Console errors, uncaught page errors and dialogs (an injected `alert()` would show here). */
  readonly problems: string[];
  /** Requests other than the file itself. */
  readonly requests: string[];
  /** From navigation start until the report has drawn its culprit table. */
  readonly openMs: number;
}

export async function open(browser: Browser, file: string, ready: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(file).href;
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('request', (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  const started = Date.now();
  await page.goto(url);
  await page.waitForSelector(ready);
  return { page, problems, requests, openMs: Date.now() - started };
}
