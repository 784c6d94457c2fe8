/**
 * The HTML report's stylesheet and script, inlined into each report. Plain ES2017 for any
 * browser; every text from the data goes through `textContent` (never `innerHTML`), so function
 * names and paths cannot inject markup. Kept free of backticks and `${` to live in a string.
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
.flame div.culprit { outline: 2px solid var(--bad); outline-offset: -2px; font-weight: 700; }
.note { color: var(--muted); font-size: 13px; margin: 6px 0; }
button { font: inherit; padding: 6px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; margin-top: 8px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
`;

export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('loopwatch-data').textContent);
  var app = document.getElementById('app');
  var STARTUP = 1, NOT_ENDED = 2, HANG = 4;
  var HOW = {
    during: '',
    profiler: 'named by the sampling profiler (the stack could not be taken during this block)',
    late: 'stack taken late, after one long native call returned: it may show code that ran after the culprit',
    none: 'the blocked thread did not answer: it was inside one long native call (turn on LOOPWATCH_PROFILER to name it)'
  };
  var COLOURS = { run: '#e8830c', start: '#7b61ff', bad: '#d62d2d' };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  /** A table row that opens a culprit, by mouse or keyboard. */
  function clickable(tr, open) {
    tr.tabIndex = 0;
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', function (event) { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); open(); } });
  }
  function ms(v) {
    if (v < 10000) return Math.round(v).toLocaleString('en-US') + ' ms';
    if (v < 120000) return (v / 1000).toFixed(1) + ' s';
    var s = Math.round(v / 1000);
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function count(n, word, words) { return n.toLocaleString('en-US') + ' ' + (n === 1 ? word : (words || word + 's')); }
  function name(c) { return c.fn === null ? '(no stack)' : c.fn; }
  function where(c) { return c.file === null ? 'inside one long native call' : c.file + ':' + c.line; }
  function clock(t) { return new Date(t).toISOString().slice(11, 23); }
  function offset(v) { return '+' + (v / 1000).toFixed(v < 10000 ? 3 : 1) + ' s'; }

  var culprits = data.culprits;
  var tl = data.timeline;
  var n = tl.s.length;
  var t0 = data.t0 === null ? 0 : Date.parse(data.t0);

  // Heading and figures.
  add(app, el('h1', null, 'loopwatch report'));
  add(app, el('p', 'sub', data.title + (data.t0 === null ? '' : ' — from ' + data.t0.replace('T', ' ').slice(0, 19) + ' UTC') + (data.span > 0 ? ', ' + ms(data.span) + ' in all' : '')));
  var cards = add(app, el('div', 'cards'));
  function card(value, label, bad) {
    var c = add(cards, el('div', bad ? 'card bad' : 'card'));
    add(c, el('b', null, value));
    add(c, el('span', null, label));
    return c;
  }
  card(data.blocks.toLocaleString('en-US'), data.blocks === 1 ? 'block' : 'blocks').id = 'block-count';
  card(ms(data.total), 'blocked in total');
  card(ms(data.worst), 'worst block');
  card(String(culprits.length), culprits.length === 1 ? 'culprit' : 'culprits');
  card(String(data.processes.length), data.processes.length === 1 ? 'process' : 'processes');
  if (data.notEnded > 0) card(String(data.notEnded), 'did not end', true);
  if (data.hangs.length > 0) card(String(data.hangs.length), data.hangs.length === 1 ? 'hang' : 'hangs', true);


  function timeline() {
    add(app, el('h2', null, 'Timeline'));
    var panel = add(app, el('div', 'panel'));
    var legend = add(panel, el('div', 'legend'));
    [['run', 'running'], ['start', 'startup (loading the program)'], ['bad', 'did not end / hang']].forEach(function (item) {
      var s = add(legend, el('span'));
      var sw = add(s, el('i'));
      sw.style.background = COLOURS[item[0]];
      s.appendChild(document.createTextNode(item[1]));
    });
    add(legend, el('span', null, 'bar width: duration · height: duration (log) · hover for details, click for the culprit'));
    var wrap = add(panel, el('div'));
    wrap.id = 'timeline-wrap';
    var canvas = add(wrap, el('canvas'));
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', 'Timeline of ' + count(n, 'block') + ' in ' + count(data.pids.length, 'process', 'processes') + '; the same blocks are listed in the tables below.');
    var tip = add(wrap, el('div', 'tip'));
    var lanes = data.pids.length > 12 ? 12 : data.pids.length;
    var LABEL = 92, LANE = 34, AXIS = 24;
    var end = 0, worst = 1;
    for (var i = 0; i < n; i++) {
      if (tl.s[i] + tl.d[i] > end) end = tl.s[i] + tl.d[i];
      if (tl.d[i] > worst) worst = tl.d[i];
    }
    end = Math.max(end * 1.01, data.span) || 1;
    var scale = 1;
    function laneOf(i) { return tl.p[i] < lanes - 1 || data.pids.length <= 12 ? tl.p[i] : lanes - 1; }
    function draw() {
      var width = wrap.clientWidth || 800;
      var height = lanes * LANE + AXIS;
      var dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = height + 'px';
      var ctx = canvas.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      scale = (width - LABEL - 8) / end;
      ctx.font = '11px system-ui, sans-serif';
      for (var l = 0; l < lanes; l++) {
        ctx.fillStyle = l % 2 ? '#fafbfc' : '#f3f5f8';
        ctx.fillRect(LABEL, l * LANE, width - LABEL, LANE);
        ctx.fillStyle = '#5c6577';
        var label = data.pids.length > 12 && l === lanes - 1 ? 'other pids' : 'pid ' + data.pids[l];
        ctx.fillText(label, 4, l * LANE + LANE / 2 + 4);
      }
      var logWorst = Math.log(1 + worst);
      var passes = [[COLOURS.run, 0], [COLOURS.start, STARTUP], [COLOURS.bad, -1]];
      passes.forEach(function (pass) {
        ctx.fillStyle = pass[0];
        for (var i = 0; i < n; i++) {
          var f = tl.f[i];
          var bad = (f & (NOT_ENDED | HANG)) !== 0;
          if (pass[1] === -1 ? !bad : bad || (f & STARTUP) !== pass[1]) continue;
          var h = (LANE - 6) * (0.3 + 0.7 * Math.log(1 + tl.d[i]) / logWorst);
          var y = laneOf(i) * LANE + LANE - 3 - h;
          ctx.fillRect(LABEL + tl.s[i] * scale, y, Math.max(1.5, tl.d[i] * scale), h);
        }
      });
      // Axis: about eight ticks at 1, 2 or 5 × 10^k ms.
      var raw = end / 8, pow = Math.pow(10, Math.floor(Math.log10(raw))), step = pow;
      [1, 2, 5, 10].some(function (m) { step = m * pow; return m * pow >= raw; });
      ctx.fillStyle = '#5c6577';
      ctx.strokeStyle = '#c9ced8';
      var base = lanes * LANE;
      for (var t = 0; t <= end; t += step) {
        var x = LABEL + t * scale;
        ctx.beginPath(); ctx.moveTo(x + 0.5, base); ctx.lineTo(x + 0.5, base + 5); ctx.stroke();
        ctx.fillText(t === 0 ? clock(t0) : '+' + ms(t), x + 2, base + 16);
      }
    }
    function hit(event) {
      var rect = canvas.getBoundingClientRect();
      var x = event.clientX - rect.left, y = event.clientY - rect.top;
      var lane = Math.floor(y / LANE);
      if (lane < 0 || lane >= lanes || x < LABEL) return -1;
      var t = (x - LABEL) / scale, tol = 3 / scale;
      // Blocks are sorted by start: find the last one starting before t + tol, look back.
      var lo = 0, hi = n;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (tl.s[mid] <= t + tol) lo = mid + 1; else hi = mid; }
      var best = -1;
      for (var i = lo - 1, seen = 0; i >= 0 && seen < 5000; i--, seen++) {
        if (laneOf(i) !== lane || tl.s[i] + tl.d[i] < t - tol) continue;
        if (best < 0 || tl.d[i] > tl.d[best]) best = i;
      }
      return best;
    }
    canvas.addEventListener('mousemove', function (event) {
      var i = hit(event);
      if (i < 0) { tip.style.display = 'none'; return; }
      var c = culprits[tl.g[i]];
      var f = tl.f[i];
      tip.textContent = name(c) + ' (' + where(c) + ')\n' + ms(tl.d[i]) + ((f & NOT_ENDED) ? ' (did not end)' : '') + ((f & HANG) ? ' — hang' : '') +
        ' · ' + ((f & STARTUP) ? 'startup' : 'running') + ' · pid ' + data.pids[tl.p[i]] + '\nat ' + clock(t0 + tl.s[i]) + ' (' + offset(tl.s[i]) + ')';
      tip.style.display = 'block';
      var rect = wrap.getBoundingClientRect();
      var left = event.clientX - rect.left + 12;
      tip.style.left = Math.min(left, rect.width - 300) + 'px';
      tip.style.top = (event.clientY - rect.top + 14) + 'px';
    });
    canvas.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    canvas.addEventListener('click', function (event) { var i = hit(event); if (i >= 0) openCulprit(tl.g[i]); });
    var pending = 0;
    window.addEventListener('resize', function () { cancelAnimationFrame(pending); pending = requestAnimationFrame(draw); });
    draw();
  }

  var detailsBox, shownDetails = 0;
  var PAGE = 50;
  function culpritTable() {
    add(app, el('h2', null, 'Culprits'));
    add(app, el('p', 'note', 'Blocks grouped by the top frame of your own code when the stack was taken (Node internals and node_modules skipped), heaviest first. Click a row for its stack, code and flame view.'));
    var table = add(app, el('table'));
    table.id = 'culprits';
    var head = add(add(table, el('thead')), el('tr'));
    [['#', 'num'], ['culprit', ''], ['blocks', 'num'], ['total', 'num'], ['worst', 'num'], ['phase', ''], ['', '']].forEach(function (h) { add(head, el('th', h[1], h[0])); });
    var body = add(table, el('tbody'));
    var shownRows = 0;
    function more(limit) {
      for (; shownRows < culprits.length && shownRows < limit; shownRows++) row(shownRows);
    }
    function row(i) {
      var c = culprits[i];
      var tr = add(body, el('tr', 'click'));
      clickable(tr, function () { openCulprit(i); });
      add(tr, el('td', 'num', i + 1));
      var cell = add(tr, el('td'));
      add(cell, el('div', 'fn', name(c)));
      add(cell, el('div', 'where', where(c)));
      add(tr, el('td', 'num', c.blocks.toLocaleString('en-US')));
      var total = add(tr, el('td', 'num', ms(c.total)));
      var share = add(add(total, el('div', 'share')), el('i'));
      share.style.width = Math.max(1, Math.round(100 * c.total / (data.total || 1))) + '%';
      add(tr, el('td', 'num', ms(c.worst)));
      var phase = add(tr, el('td'));
      if (c.running > 0) add(phase, el('span', 'tag', 'running' + (c.startup > 0 ? ' ' + c.running : '')));
      if (c.startup > 0) add(phase, el('span', 'tag start', 'startup' + (c.running > 0 ? ' ' + c.startup : '')));
      var notes = add(tr, el('td'));
      if (c.notEnded > 0) add(notes, el('span', 'tag bad', c.notEnded + ' did not end'));
      if (c.hangs > 0) add(notes, el('span', 'tag bad', count(c.hangs, 'hang')));
      if (c.how === 'late') add(notes, el('span', 'tag', 'late stack'));
      if (c.how === 'profiler') add(notes, el('span', 'tag', 'profiler'));
      if (c.pids.length > 1) add(notes, el('span', 'tag', c.pids.length + ' processes'));
    }
    more(PAGE);
    if (culprits.length > PAGE) {
      var button = add(app, el('button', null, 'Show all ' + culprits.length + ' culprits'));
      button.addEventListener('click', function () { more(culprits.length); detailsUpTo(culprits.length); button.remove(); });
    }
    add(app, el('h2', null, 'Culprit details'));
    detailsBox = add(app, el('div'));
    detailsUpTo(PAGE);
    var first = document.getElementById('culprit-0');
    if (first) first.open = true;
  }

  function detailsUpTo(limit) {
    for (; shownDetails < culprits.length && shownDetails < limit; shownDetails++) detail(shownDetails);
  }

  function openCulprit(i) {
    detailsUpTo(i + 1);
    var d = document.getElementById('culprit-' + i);
    if (!d) return;
    d.open = true;
    d.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  function detail(i) {
    var c = culprits[i];
    var d = add(detailsBox, el('details', 'culprit'));
    d.id = 'culprit-' + i;
    var summary = add(d, el('summary'));
    add(summary, el('span', 'fn', name(c)));
    summary.appendChild(document.createTextNode('  '));
    add(summary, el('span', 'where', where(c) + ' — ' + count(c.blocks, 'block') + ', ' + ms(c.total) + ' in total, worst ' + ms(c.worst)));
    var filled = false;
    d.addEventListener('toggle', function () {
      if (!d.open || filled) return;
      filled = true;
      fill(add(d, el('div')), c);
    });
  }

  function fill(box, c) {
    var facts = add(box, el('p', 'note'));
    facts.textContent = count(c.blocks, 'block') + ' · mean ' + ms(c.total / c.blocks) + ' · ' +
      (c.running > 0 ? c.running + ' running' : '') + (c.running > 0 && c.startup > 0 ? ', ' : '') + (c.startup > 0 ? c.startup + ' at startup' : '') +
      ' · ' + (c.pids.length === 1 ? 'pid ' + c.pids[0] : count(c.pids.length, 'process', 'processes') + ' (pids ' + c.pids.join(', ') + ')') +
      (c.notEnded > 0 ? ' · ' + c.notEnded + ' did not end (the process ended during the block)' : '') +
      (c.hangs > 0 ? ' · ' + count(c.hangs, 'hang') : '');
    if (HOW[c.how]) add(box, el('p', 'note', HOW[c.how]));
    if (c.file !== null) {
      add(box, el('h4', null, 'Code'));
      if (c.excerpt) {
        if (c.excerpt.changed) add(box, el('p', 'note', 'This file was modified after the block: the lines shown may have moved since.'));
        var pre = add(box, el('pre', 'code'));
        c.excerpt.lines.forEach(function (text, k) {
          var number = c.excerpt.first + k;
          var line = add(pre, el('span', number === c.excerpt.mark ? 'hl' : null));
          add(line, el('em', null, number));
          line.appendChild(document.createTextNode(text));
        });
      } else {
        add(box, el('p', 'note', 'The source file could not be read where this report was made.'));
      }
    }
    if (c.stack.length > 0) {
      add(box, el('h4', null, 'Stack' + (c.stacks > 1 ? ' (the one behind the most blocked time, of ' + c.stacks + ' different stacks)' : '') + ' — innermost first'));
      var list = add(box, el('ol', 'stack'));
      var marked = false;
      c.stack.forEach(function (frame) {
        var isCulprit = !marked && frame[0] === c.fn && frame[1] === c.file && frame[2] === c.line;
        if (isCulprit) marked = true;
        add(list, el('li', isCulprit ? 'culprit' : frame[4] ? 'internal' : null, frame[0] + ' (' + frame[1] + (frame[2] > 0 ? ':' + frame[2] + ':' + frame[3] : '') + ')'));
      });
    }
    add(box, el('h4', null, 'Flame view — outermost call at the top, width = blocked time, heaviest first'));
    flame(add(box, el('div', 'flame')), c);
  }

  function flame(box, c) {
    var strings = data.strings;
    var culpritName = c.fn === null ? null : c.fn + ' ' + c.file + ':' + c.line;
    var rootTotal = c.flame[1] || 1;
    var depth = 0, ROW = 20;
    function node(item, level, x, w) {
      if (w < 0.001) return;
      var label = strings[item[0]];
      var div = add(box, el('div', level === 0 ? 'root' : label.indexOf(' node:') >= 0 || label.indexOf(' <anonymous>') >= 0 ? 'internal' : null, label));
      if (label === culpritName) div.className = 'culprit';
      if (!div.className) {
        var hue = 0;
        for (var k = 0; k < label.length; k++) hue = (hue * 31 + label.charCodeAt(k)) % 360;
        div.style.background = 'hsl(' + (20 + hue % 35) + ', 85%, ' + (68 + hue % 12) + '%)';
      }
      div.style.left = (x * 100) + '%';
      div.style.width = (w * 100) + '%';
      div.style.top = (level * ROW) + 'px';
      div.title = label + '\n' + ms(item[1]) + ' (' + Math.round(100 * item[1] / rootTotal) + '% of this culprit\'s blocked time)';
      if (level > depth) depth = level;
      var cx = x;
      item[2].forEach(function (child) {
        var cw = w * child[1] / (item[1] || 1);
        node(child, level + 1, cx, cw);
        cx += cw;
      });
    }
    node(c.flame, 0, 0, 1);
    box.style.height = ((depth + 1) * ROW + 2) + 'px';
  }

  function longest() {
    add(app, el('h2', null, 'Longest blocks'));
    var top = [];
    for (var i = 0; i < n; i++) {
      if (top.length < 15 || tl.d[i] > tl.d[top[top.length - 1]]) {
        top.push(i);
        top.sort(function (a, b) { return tl.d[b] - tl.d[a]; });
        if (top.length > 15) top.pop();
      }
    }
    var table = add(app, el('table'));
    var head = add(add(table, el('thead')), el('tr'));
    [['when', ''], ['duration', 'num'], ['phase', ''], ['pid', 'num'], ['culprit', ''], ['', '']].forEach(function (h) { add(head, el('th', h[1], h[0])); });
    var body = add(table, el('tbody'));
    top.forEach(function (i) {
      var c = culprits[tl.g[i]], f = tl.f[i];
      var tr = add(body, el('tr', 'click'));
      clickable(tr, function () { openCulprit(tl.g[i]); });
      add(tr, el('td', 'where', clock(t0 + tl.s[i]) + ' (' + offset(tl.s[i]) + ')'));
      add(tr, el('td', 'num', ms(tl.d[i])));
      add(tr, el('td', null, (f & STARTUP) ? 'startup' : 'running'));
      add(tr, el('td', 'num', data.pids[tl.p[i]]));
      var cell = add(tr, el('td'));
      add(cell, el('span', 'fn', name(c)));
      cell.appendChild(document.createTextNode(' '));
      add(cell, el('span', 'where', where(c)));
      var notes = add(tr, el('td'));
      if (f & NOT_ENDED) add(notes, el('span', 'tag bad', 'did not end'));
      if (f & HANG) add(notes, el('span', 'tag bad', 'hang'));
    });
  }

  function hangs() {
    add(app, el('h2', null, 'Hangs'));
    var table = add(app, el('table'));
    var head = add(add(table, el('thead')), el('tr'));
    ['when', 'pid', 'what', 'where', 'action'].forEach(function (h) { add(head, el('th', null, h)); });
    var body = add(table, el('tbody'));
    data.hangs.forEach(function (h) {
      var tr = add(body, el('tr'));
      add(tr, el('td', 'where', h.at.replace('T', ' ').slice(0, 23)));
      add(tr, el('td', 'num', h.pid));
      add(tr, el('td', null, h.reason === 'block' ? 'block #' + h.blockId + ' reached ' + ms(h.limitMs) : 'did not exit within ' + ms(h.limitMs)));
      add(tr, el('td', 'fn', h.function === null ? '' : h.function + ' (' + h.file + ':' + h.line + ')'));
      add(tr, el('td', null, h.action));
    });
  }

  function footer() {
    var foot = add(app, el('footer'));
    data.sources.forEach(function (s) {
      var extra = (s.malformed > 0 ? ', ' + count(s.malformed, 'malformed line') + ' skipped' : '') + (s.truncated ? ', last line cut short' : '');
      add(foot, el('div', null, 'Source: ' + s.name + ' — ' + count(s.events, 'event') + extra));
    });
    add(foot, el('div', null, 'Generated by loopwatch' + (data.version ? ' ' + data.version : '') + ' at ' + data.generatedAt + '. Self-contained: this file loads nothing from the network.'));
  }

  // Drawn once everything above is defined (the functions use variables declared with them).
  if (n === 0) {
    add(app, el('p', 'note', 'No blocks were recorded: the event loop never stayed busy past the threshold.'));
  } else {
    timeline();
    culpritTable();
    longest();
  }
  if (data.hangs.length > 0) hangs();
  footer();
})();
`;
