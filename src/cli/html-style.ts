/**
 * The HTML report's stylesheet, inlined into each report (its script is src/browser/report.ts).
 * Kept free of backticks and `${` to live in a string.
 */
export const CLIENT_CSS = String.raw`
:root { --fg: #1d2330; --muted: #5c6577; --line: #e2e5eb; --bg: #f7f8fa; --card: #fff;
  --run: #e8830c; --start: #7b61ff; --bad: #d62d2d; --hl: #fff3c4; --accent: #0b63c5; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1240px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 2px; } h2 { font-size: 17px; margin: 28px 0 10px; } h4 { margin: 14px 0 6px; font-size: 13px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.sub { color: var(--muted); margin: 0 0 16px; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 130px; }
.card b { display: block; font-size: 20px; } .card span { color: var(--muted); font-size: 12px; }
.card.bad b { color: var(--bad); }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.legend { display: flex; gap: 16px; color: var(--muted); font-size: 12px; margin-bottom: 6px; flex-wrap: wrap; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
#timeline-wrap { position: relative; }
canvas { display: block; width: 100%; cursor: crosshair; }
.tip { position: absolute; pointer-events: none; background: #1d2330; color: #fff; padding: 6px 9px; border-radius: 6px; font-size: 12px; max-width: 440px; display: none; z-index: 2; white-space: pre-line; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fbfbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr.click { cursor: pointer; } tbody tr.click:hover { background: #f2f6fc; }
.fn { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.where { color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.share { height: 6px; background: var(--line); border-radius: 3px; margin-top: 4px; min-width: 60px; }
.share i { display: block; height: 6px; background: var(--run); border-radius: 3px; }
.tag { display: inline-block; font-size: 11px; padding: 1px 6px; border-radius: 9px; background: #eef0f4; color: var(--muted); margin: 0 4px 2px 0; white-space: nowrap; }
.tag.bad { background: #fde8e8; color: var(--bad); } .tag.start { background: #efebff; color: var(--start); }
details.culprit { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 8px; }
details.culprit > summary { padding: 10px 12px; cursor: pointer; }
details.culprit > div { padding: 0 14px 14px; }
pre.code { margin: 0; background: #1d2330; color: #e9edf3; padding: 8px 0; border-radius: 6px; overflow-x: auto; font-size: 12.5px; }
pre.code span { display: block; padding: 0 12px; white-space: pre; } pre.code span.hl { background: #5a4410; }
pre.code em { font-style: normal; color: #8a93a6; display: inline-block; width: 4em; }
ol.stack { margin: 0; padding-left: 22px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
ol.stack li.internal { color: #98a0b0; } ol.stack li.culprit { background: var(--hl); font-weight: 600; }
.flame { position: relative; overflow: hidden; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.flame div { position: absolute; height: 19px; line-height: 19px; font-size: 11.5px; padding: 0 4px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; border-right: 1px solid #fff; border-bottom: 1px solid #fff; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #2b1d05; }
.flame div.internal { background: #dfe2e8; color: #5c6577; } .flame div.root { background: #cfd5df; }
.flame div.gc { background: #9cc7e8; color: #0d2b45; }
.flame div.culprit { outline: 2px solid var(--bad); outline-offset: -2px; font-weight: 700; }
.note { color: var(--muted); font-size: 13px; margin: 6px 0; }
button { font: inherit; padding: 6px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; margin-top: 8px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
`;
