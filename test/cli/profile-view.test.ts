/**
 * Where a block's time went, as a person sees it: a real two-phase block (~400 ms in each of
 * two functions) run by `loopwatch run --html` with a profile directory. The HTML report's
 * flame view shows both phases, each about half as wide as the block, and links the block's
 * `.cpuprofile`; that file, opened in speedscope (a real consumer of Chrome's format, served
 * as a user opens it), shows both phases too.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import type { BlockEvent, LoopwatchEvent } from '../../src/types.js';
import { CHROMIUM, HAVE_CHROMIUM, launch, open } from './browser.js';
import { block, frame, ndjson } from './events.js';
import { ROOT, cli, describe, tempDir } from './helpers.js';

const TWO_PHASE = join(ROOT, 'test', 'process', 'fixtures', 'two-phase.cjs');
const SPEEDSCOPE = join(ROOT, 'node_modules', 'speedscope', 'dist', 'release');

let browser: Browser;
beforeAll(async () => {
  if (HAVE_CHROMIUM) browser = await launch();
});
afterAll(async () => {
  if (HAVE_CHROMIUM) await browser.close();
});

/** Serves speedscope's release folder and one profile, as `npx speedscope file` would show it. */
async function serveSpeedscope(profile: string): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.json': 'application/json',
    '.wasm': 'application/wasm',
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file =
      path === '/block.cpuprofile' ? profile : join(SPEEDSCOPE, normalize(path === '/' ? '/index.html' : path));
    try {
      const body = readFileSync(file);
      response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return { server, url: `${base}/index.html#profileURL=${encodeURIComponent(`${base}/block.cpuprofile`)}&title=block` };
}

group.skipIf(!HAVE_CHROMIUM)(
  `where the time went${HAVE_CHROMIUM ? '' : ` (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium, as .ci/run does)`}`,
  () => {
    it('a two-phase block: the HTML flame view and the .cpuprofile in speedscope both show both phases', async () => {
      const dir = tempDir();
      const html = join(dir, 'report.html');
      const events = join(dir, 'events.ndjson');
      const result = await cli(['run', '--events', events, '--html', html, '--', process.execPath, TWO_PHASE], {
        env: { LOOPWATCH_PROFILE_DIR: join(dir, 'profiles') },
        timeoutMs: 30_000,
      });
      expect(result.code, describe(result)).toBe(0);
      const ended = readFileSync(events, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LoopwatchEvent)
        .find((e): e is BlockEvent => e.type === 'block' && e.state === 'ended' && e.durationMs > 600);
      expect(ended?.profileFile, describe(result)).toBeDefined();
      const profileFile = ended?.profileFile ?? '';

      // The report: the culprit (the first phase, named by the stack) opens with a flame view
      // drawn from the samples, where each phase is about half the block.
      const { page, problems } = await open(browser, html, '#culprits');
      const first = page.locator('#culprit-0');
      await expect.poll(() => first.getAttribute('open')).not.toBeNull();
      expect((await first.locator('h4').allTextContents()).join('\n')).toContain("from the profiler's samples");
      const width = async (name: string): Promise<number> => {
        const box = first.locator('.flame div', { hasText: name }).first();
        return Number.parseFloat((await box.getAttribute('style'))?.match(/width: ([\d.]+)%/)?.[1] ?? '0');
      };
      // ~50 % each; ± 15 points leaves room for a loaded machine's scheduling.
      expect(await width('indexOrders')).toBeGreaterThan(35);
      expect(await width('renderInvoices')).toBeGreaterThan(35);
      expect(await first.locator('.flame div.culprit', { hasText: 'indexOrders' }).count()).toBeGreaterThan(0);
      const link = first.locator('ul.profiles a');
      expect(await link.getAttribute('href')).toBe(pathToFileURL(profileFile).href);
      expect(problems).toEqual([]);
      await page.close();

      // speedscope's sandwich view lists each function with its share of the profile.
      const { server, url } = await serveSpeedscope(profileFile);
      try {
        const viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await viewer.goto(url);
        await expect.poll(() => viewer.title(), { timeout: 10_000 }).toBe('block - speedscope');
        await viewer.getByText('Sandwich').first().click();
        const table = () => viewer.textContent('body').then((text) => text ?? '');
        await expect.poll(table, { timeout: 10_000 }).toContain('renderInvoices');
        const text = await table();
        const share = (name: string): number =>
          Number(text.match(new RegExp(`\\(([\\d.]+)%\\)[^%]*\\(([\\d.]+)%\\)${name}`))?.[1] ?? '0');
        expect(share('indexOrders'), text).toBeGreaterThan(35);
        expect(share('renderInvoices'), text).toBeGreaterThan(35);
        await viewer.close();
      } finally {
        server.close();
      }
      expect(readdirSync(join(dir, 'profiles'))).toHaveLength(1);
    });

    it('garbage collection has its own colour in the flame view', async () => {
      const dir = tempDir();
      const [ongoing, endedEvent] = block(300, 1, 400, [frame('churnCache', '/srv/app/cache.js', 4)]);
      const sampled = {
        ...(endedEvent as BlockEvent),
        profile: {
          samples: 40,
          share: 0.4,
          stack: [frame('churnCache', '/srv/app/cache.js', 4)],
          flame: {
            function: '(root)',
            ms: 400,
            children: [
              { function: '(garbage collector)', ms: 240 },
              { function: 'churnCache', file: '/srv/app/cache.js', line: 2, ms: 160 },
            ],
          },
        },
      };
      writeFileSync(join(dir, 'events.ndjson'), ndjson([ongoing as BlockEvent, sampled]));
      const html = join(dir, 'report.html');
      const result = await cli(['report', join(dir, 'events.ndjson'), '--html', html]);
      expect(result.code, describe(result)).toBe(0);
      const { page, problems } = await open(browser, html, '#culprits');
      const first = page.locator('#culprit-0');
      await expect.poll(() => first.getAttribute('open')).not.toBeNull();
      expect(await first.locator('.flame div.gc').textContent()).toBe('(garbage collector)');
      expect(problems).toEqual([]);
      await page.close();
    });
  },
);
