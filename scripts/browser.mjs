// The HTML report's script (src/browser/report.ts), compiled by `tsc -p src/browser/tsconfig.json`
// into dist/.browser, becomes dist/browser/report.js: the one file src/cli/html.ts inlines into
// each report's <script>. Its imports are types only; what tsc leaves of them (`export {};`) is
// dropped here, and anything else that cannot sit in a classic inline script stops the build.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const from = new URL('../dist/.browser/report.js', import.meta.url);
const to = new URL('../dist/browser/report.js', import.meta.url);
const script = readFileSync(from, 'utf8').replace(/^export \{\};\n/m, '');
const problems = [
  [/^\s*(import|export)\b/m, 'an import or export (the page loads no module)'],
  [/<\/script/i, '"</script" (it would end the inline script)'],
  [/<!--/, '"<!--" (it changes how the inline script is parsed)'],
];
for (const [pattern, what] of problems) {
  if (pattern.test(script)) {
    console.error(`scripts/browser.mjs: dist/.browser/report.js contains ${what}`);
    process.exit(1);
  }
}
mkdirSync(new URL('../dist/browser/', import.meta.url), { recursive: true });
writeFileSync(to, script);
rmSync(new URL('../dist/.browser', import.meta.url), { recursive: true, force: true });
