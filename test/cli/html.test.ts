/**
 * The HTML report, rendered in headless Chromium: what a person sees (the culprits, the
 * number of blocks, the code), that it loads nothing and raises no error, that a hostile
 * function name stays text, and that 100,000 events stay fast to write and to open.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe as group, expect, it } from 'vitest';
import type { StackFrame } from '../../src/types.js';
import { CHROMIUM, HAVE_CHROMIUM, launch, open } from './browser.js';
import { STACKS, block, frame, hang, ndjson } from './events.js';
import { FIXTURES, ROOT, cli, describe, tempDir } from './helpers.js';

const HOSTILE = '</script><img src=x onerror=alert(1)>';

let browser: Browser;
beforeAll(async () => {
  if (HAVE_CHROMIUM) browser = await launch();
});
afterAll(async () => {
  if (HAVE_CHROMIUM) await browser.close();
});

group.skipIf(!HAVE_CHROMIUM)(
  `the HTML report${HAVE_CHROMIUM ? '' : ` (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium, as .ci/run does)`}`,
  () => {
    it('shows the culprits, the blocks and the code, loads nothing, and keeps hostile names as text', async () => {
      const dir = tempDir();
      const real: StackFrame[] = [
        frame('slowCulprit', join(FIXTURES, 'blocker.cjs'), 8),
        frame('Timeout._onTimeout', join(FIXTURES, 'blocker.cjs'), 19),
      ];
      const hostile: StackFrame[] = [frame(HOSTILE, '/srv/app/src/evil\u2028name.js', 1)];
      const events = [
        ...block(100, 1, 900, real),
        ...block(100, 2, 800, real),
        ...block(100, 3, 300, STACKS.render),
        ...block(100, 4, 180, STACKS.parse, { phase: 'startup' }),
        ...block(100, 5, 220, hostile),
        ...block(200, 1, 1200, STACKS.render, { ended: false }),
        hang(200, 1, 1200, STACKS.render),
      ];
      writeFileSync(join(dir, 'events.ndjson'), ndjson(events));
      const html = join(dir, 'report.html');
      const result = await cli(['report', join(dir, 'events.ndjson'), '--html', html]);
      expect(result.code, describe(result)).toBe(0);

      const { page, problems, requests } = await open(browser, html, '#culprits');
      expect(await page.textContent('#block-count')).toContain('6');
      const table = (await page.textContent('#culprits')) ?? '';
      for (const name of ['renderInvoice', 'slowCulprit', 'loadConfig', HOSTILE]) expect(table).toContain(name);
      expect(table.indexOf('slowCulprit')).toBeLessThan(table.indexOf('renderInvoice')); // heaviest first
      expect(await page.locator('img').count()).toBe(0);
      // The heaviest culprit opens with its code around the culprit line, read from the file.
      const first = page.locator('#culprit-0');
      await expect.poll(() => first.getAttribute('open')).not.toBeNull();
      const code = (await first.locator('pre.code span.hl').textContent()) ?? '';
      expect(code).toContain('while (Date.now() < end) n++;');
      expect(await first.locator('.flame div.culprit').count()).toBeGreaterThan(0);
      // Clicking a row of the table opens that culprit.
      await page.locator('#culprits tbody tr', { hasText: 'renderInvoice' }).click();
      await expect.poll(() => page.locator('details[open]').count()).toBe(2);
      expect(await page.textContent('body')).toContain('1 did not end');
      mkdirSync(join(ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-output', 'report.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      await page.close();
    });

    it('100,000 events: written in a few seconds, opened in a few seconds', async () => {
      const dir = tempDir();
      const files = Array.from({ length: 8 }, (_, i) => `/srv/app/src/module${i}.js`);
      const lines: string[] = [];
      for (let i = 0; i < 50_000; i++) {
        const fn = i % 40;
        const stack = [
          frame(`work${fn}`, files[fn % 8] as string, 10 + fn),
          frame(`step${i % 3}`, files[(fn + 1) % 8] as string, 30 + (i % 3)),
          frame('handle', '/srv/app/src/server.js', 12),
          frame('emit', 'node:events', 519),
        ];
        for (const event of block(1000 + (i % 4), Math.floor(i / 4) + 1, 100 + ((i * 7919) % 900), stack, {
          gapMs: 20,
        }))
          lines.push(JSON.stringify(event));
      }
      const input = join(dir, 'big.ndjson');
      writeFileSync(input, `${lines.join('\n')}\n`);
      const html = join(dir, 'big.html');
      const started = Date.now();
      const result = await cli(['report', input, '--html', html], { timeoutMs: 30_000 });
      const writeMs = Date.now() - started;
      expect(result.code, describe(result)).toBe(0);
      expect(result.stdout).toContain('loopwatch: 50,000 blocks in 4 processes');
      const { page, problems, openMs } = await open(browser, html, '#culprits');
      expect(await page.textContent('#block-count')).toContain('50,000');
      expect(problems).toEqual([]);
      process.stdout.write(
        `html report, 100,000 events: loopwatch report --html took ${writeMs} ms; Chromium drew it in ${openMs} ms\n`,
      );
      expect(writeMs).toBeLessThan(10_000);
      expect(openMs).toBeLessThan(5_000);
      await page.close();
    });
  },
);
