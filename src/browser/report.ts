/**
 * The HTML report's script, run in the reader's browser. Compiled on its own for the browser
 * (src/browser/tsconfig.json: DOM, ES2017, no Node types) and inlined into each report by
 * src/cli/html.ts, under a CSP that allows nothing but inline code. Every text from the data
 * goes through `textContent` (never `innerHTML`), so function names and paths cannot inject
 * markup. Only type imports: the page loads no module.
 */
import type { CulpritData, FlameNode, ReportData, TimelineFlags } from './report-data.js';

(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('loopwatch-data')?.textContent ?? 'null') as ReportData;
  const app = document.getElementById('app') as HTMLElement;
  const { STARTUP, NOT_ENDED, HANG }: TimelineFlags = { STARTUP: 1, NOT_ENDED: 2, HANG: 4 };
  const HOW: Record<CulpritData['how'], string> = {
    during: '',
    profiler: 'named by the sampling profiler (the stack could not be taken during this block)',
    late: 'stack taken late, after one long native call returned: it may show code that ran after the culprit',
    internals:
      'the stack, taken during the block, held only Node internals: no line of the app was running at that instant; Node was busy on its behalf (for processTicksAndRejections: the microtask queue, a long run of short promise or process.nextTick callbacks)',
    none: 'the blocked thread did not answer: it was inside one long native call (turn on LOOPWATCH_PROFILER to name it)',
  };
  const COLOURS = { run: '#e8830c', start: '#7b61ff', bad: '#d62d2d' };

  function el<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    cls?: string | null,
    text?: string | number | null,
  ): HTMLElementTagNameMap[K] {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add<T extends Node>(parent: Node, child: T): T {
    parent.appendChild(child);
    return child;
  }
  /** A table row that opens a culprit, by mouse or keyboard. */
  function clickable(tr: HTMLTableRowElement, open: () => void): void {
    tr.tabIndex = 0;
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        open();
      }
    });
  }
  function ms(v: number): string {
    if (v < 10000) return Math.round(v).toLocaleString('en-US') + ' ms';
    if (v < 120000) return (v / 1000).toFixed(1) + ' s';
    const s = Math.round(v / 1000);
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function count(n: number, word: string, words?: string): string {
    return n.toLocaleString('en-US') + ' ' + (n === 1 ? word : words || word + 's');
  }
  function name(c: CulpritData): string {
    return c.fn === null ? '(no stack)' : c.fn;
  }
  function where(c: CulpritData): string {
    if (c.file === null) return 'inside one long native call';
    return c.file + ':' + String(c.line) + (c.unmapped === true ? ' (generated code, not source-mapped)' : '');
  }
  function clock(t: number): string {
    return new Date(t).toISOString().slice(11, 23);
  }
  function offset(v: number): string {
    return '+' + (v / 1000).toFixed(v < 10000 ? 3 : 1) + ' s';
  }
  /** The i-th entry of a timeline array or list the data guarantees to have it. */
  /** `pid 123`, or `pid 123 worker 4 "resize"` for a worker thread's row. */
  function laneName(l: number): string {
    const row = data.lanes[l];
    if (row === undefined) return '';
    return 'pid ' + row.pid + (row.thread === 'main' ? '' : ' ' + row.thread);
  }
  function at<T>(list: readonly T[], i: number): T {
    return list[i] as T;
  }

  const culprits = data.culprits;
  const tl = data.timeline;
  const n = tl.s.length;
  const t0 = data.t0 === null ? 0 : Date.parse(data.t0);
  const culpritOf = (i: number): CulpritData => at(culprits, at(tl.g, i));

  // Heading and figures.
  add(app, el('h1', null, 'loopwatch report'));
  add(
    app,
    el(
      'p',
      'sub',
      data.title +
        (data.t0 === null ? '' : ' — from ' + data.t0.replace('T', ' ').slice(0, 19) + ' UTC') +
        (data.span > 0 ? ', ' + ms(data.span) + ' in all' : ''),
    ),
  );
  const cards = add(app, el('div', 'cards'));
  function card(value: string, label: string, bad?: boolean): HTMLDivElement {
    const c = add(cards, el('div', bad ? 'card bad' : 'card'));
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

  function timeline(): void {
    add(app, el('h2', null, 'Timeline'));
    const panel = add(app, el('div', 'panel'));
    const legend = add(panel, el('div', 'legend'));
    (
      [
        ['run', 'running'],
        ['start', 'startup (loading the program)'],
        ['bad', 'did not end / hang'],
      ] as const
    ).forEach(function (item) {
      const s = add(legend, el('span'));
      const sw = add(s, el('i'));
      sw.style.background = COLOURS[item[0]];
      s.appendChild(document.createTextNode(item[1]));
    });
    add(
      legend,
      el('span', null, 'bar width: duration · height: duration (log) · hover for details, click for the culprit'),
    );
    const wrap = add(panel, el('div'));
    wrap.id = 'timeline-wrap';
    const canvas = add(wrap, el('canvas'));
    canvas.setAttribute('role', 'img');
    canvas.setAttribute(
      'aria-label',
      'Timeline of ' +
        count(n, 'block') +
        ' in ' +
        count(data.pids.length, 'process', 'processes') +
        '; the same blocks are listed in the tables below.',
    );
    const tip = add(wrap, el('div', 'tip'));
    // One row per thread of each process (just `pid N` for a process whose main thread alone blocked).
    const rows = data.lanes;
    const lanes = rows.length > 12 ? 12 : rows.length;
    const LABEL = 92,
      LANE = 34,
      AXIS = 24;
    let end = 0,
      worst = 1;
    for (let i = 0; i < n; i++) {
      if (at(tl.s, i) + at(tl.d, i) > end) end = at(tl.s, i) + at(tl.d, i);
      if (at(tl.d, i) > worst) worst = at(tl.d, i);
    }
    end = Math.max(end * 1.01, data.span) || 1;
    let scale = 1;
    function laneOf(i: number): number {
      return at(tl.p, i) < lanes - 1 || rows.length <= 12 ? at(tl.p, i) : lanes - 1;
    }
    function draw(): void {
      const width = wrap.clientWidth || 800;
      const height = lanes * LANE + AXIS;
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = height + 'px';
      const ctx = canvas.getContext('2d');
      if (ctx === null) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      scale = (width - LABEL - 8) / end;
      ctx.font = '11px system-ui, sans-serif';
      for (let l = 0; l < lanes; l++) {
        ctx.fillStyle = l % 2 ? '#fafbfc' : '#f3f5f8';
        ctx.fillRect(LABEL, l * LANE, width - LABEL, LANE);
        ctx.fillStyle = '#5c6577';
        const label = rows.length > 12 && l === lanes - 1 ? 'other threads' : laneName(l);
        ctx.fillText(label, 4, l * LANE + LANE / 2 + 4);
      }
      const logWorst = Math.log(1 + worst);
      const passes: [string, number][] = [
        [COLOURS.run, 0],
        [COLOURS.start, STARTUP],
        [COLOURS.bad, -1],
      ];
      passes.forEach(function (pass) {
        ctx.fillStyle = pass[0];
        for (let i = 0; i < n; i++) {
          const f = at(tl.f, i);
          const bad = (f & (NOT_ENDED | HANG)) !== 0;
          if (pass[1] === -1 ? !bad : bad || (f & STARTUP) !== pass[1]) continue;
          const h = (LANE - 6) * (0.3 + (0.7 * Math.log(1 + at(tl.d, i))) / logWorst);
          const y = laneOf(i) * LANE + LANE - 3 - h;
          ctx.fillRect(LABEL + at(tl.s, i) * scale, y, Math.max(1.5, at(tl.d, i) * scale), h);
        }
      });
      // Axis: about eight ticks at 1, 2 or 5 × 10^k ms.
      const raw = end / 8,
        pow = Math.pow(10, Math.floor(Math.log10(raw)));
      let step = pow;
      [1, 2, 5, 10].some(function (m) {
        step = m * pow;
        return m * pow >= raw;
      });
      ctx.fillStyle = '#5c6577';
      ctx.strokeStyle = '#c9ced8';
      const base = lanes * LANE;
      for (let t = 0; t <= end; t += step) {
        const x = LABEL + t * scale;
        ctx.beginPath();
        ctx.moveTo(x + 0.5, base);
        ctx.lineTo(x + 0.5, base + 5);
        ctx.stroke();
        ctx.fillText(t === 0 ? clock(t0) : '+' + ms(t), x + 2, base + 16);
      }
    }
    function hit(event: MouseEvent): number {
      const rect = canvas.getBoundingClientRect();
      const x = event.clientX - rect.left,
        y = event.clientY - rect.top;
      const lane = Math.floor(y / LANE);
      if (lane < 0 || lane >= lanes || x < LABEL) return -1;
      const t = (x - LABEL) / scale,
        tol = 3 / scale;
      // Blocks are sorted by start: find the last one starting before t + tol, look back.
      let lo = 0,
        hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (at(tl.s, mid) <= t + tol) lo = mid + 1;
        else hi = mid;
      }
      let best = -1;
      for (let i = lo - 1, seen = 0; i >= 0 && seen < 5000; i--, seen++) {
        if (laneOf(i) !== lane || at(tl.s, i) + at(tl.d, i) < t - tol) continue;
        if (best < 0 || at(tl.d, i) > at(tl.d, best)) best = i;
      }
      return best;
    }
    canvas.addEventListener('mousemove', function (event) {
      const i = hit(event);
      if (i < 0) {
        tip.style.display = 'none';
        return;
      }
      const c = culpritOf(i);
      const f = at(tl.f, i);
      tip.textContent =
        name(c) +
        ' (' +
        where(c) +
        ')\n' +
        ms(at(tl.d, i)) +
        (f & NOT_ENDED ? ' (did not end)' : '') +
        (f & HANG ? ' — hang' : '') +
        ' · ' +
        (f & STARTUP ? 'startup' : 'running') +
        ' · ' +
        laneName(at(tl.p, i)) +
        '\nat ' +
        clock(t0 + at(tl.s, i)) +
        ' (' +
        offset(at(tl.s, i)) +
        ')';
      tip.style.display = 'block';
      const rect = wrap.getBoundingClientRect();
      const left = event.clientX - rect.left + 12;
      tip.style.left = Math.min(left, rect.width - 300) + 'px';
      tip.style.top = event.clientY - rect.top + 14 + 'px';
    });
    canvas.addEventListener('mouseleave', function () {
      tip.style.display = 'none';
    });
    canvas.addEventListener('click', function (event) {
      const i = hit(event);
      if (i >= 0) openCulprit(at(tl.g, i));
    });
    let pending = 0;
    window.addEventListener('resize', function () {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(draw);
    });
    draw();
  }

  let detailsBox: HTMLDivElement | undefined;
  let shownDetails = 0;
  const PAGE = 50;
  function culpritTable(): void {
    add(app, el('h2', null, 'Culprits'));
    add(
      app,
      el(
        'p',
        'note',
        'Blocks grouped by the top frame of your own code when the stack was taken (Node internals and node_modules skipped), heaviest first. Click a row for its stack, code and flame view.',
      ),
    );
    const table = add(app, el('table'));
    table.id = 'culprits';
    const head = add(add(table, el('thead')), el('tr'));
    [
      ['#', 'num'],
      ['culprit', ''],
      ['blocks', 'num'],
      ['total', 'num'],
      ['worst', 'num'],
      ['phase', ''],
      ['', ''],
    ].forEach(function (h) {
      add(head, el('th', h[1], h[0]));
    });
    const body = add(table, el('tbody'));
    let shownRows = 0;
    function more(limit: number): void {
      for (; shownRows < culprits.length && shownRows < limit; shownRows++) row(shownRows);
    }
    function row(i: number): void {
      const c = at(culprits, i);
      const tr = add(body, el('tr', 'click'));
      clickable(tr, function () {
        openCulprit(i);
      });
      add(tr, el('td', 'num', i + 1));
      const cell = add(tr, el('td'));
      add(cell, el('div', 'fn', name(c)));
      add(cell, el('div', 'where', where(c)));
      add(tr, el('td', 'num', c.blocks.toLocaleString('en-US')));
      const total = add(tr, el('td', 'num', ms(c.total)));
      const share = add(add(total, el('div', 'share')), el('i'));
      share.style.width = Math.max(1, Math.round((100 * c.total) / (data.total || 1))) + '%';
      add(tr, el('td', 'num', ms(c.worst)));
      const phase = add(tr, el('td'));
      if (c.running > 0) add(phase, el('span', 'tag', 'running' + (c.startup > 0 ? ' ' + c.running : '')));
      if (c.startup > 0) add(phase, el('span', 'tag start', 'startup' + (c.running > 0 ? ' ' + c.startup : '')));
      const notes = add(tr, el('td'));
      if (c.notEnded > 0) add(notes, el('span', 'tag bad', c.notEnded + ' did not end'));
      if (c.hangs > 0) add(notes, el('span', 'tag bad', count(c.hangs, 'hang')));
      if (c.how === 'late') add(notes, el('span', 'tag', 'late stack'));
      if (c.how === 'profiler') add(notes, el('span', 'tag', 'profiler'));
      if (c.pids.length > 1) add(notes, el('span', 'tag', c.pids.length + ' processes'));
    }
    more(PAGE);
    if (culprits.length > PAGE) {
      const button = add(app, el('button', null, 'Show all ' + culprits.length + ' culprits'));
      button.addEventListener('click', function () {
        more(culprits.length);
        detailsUpTo(culprits.length);
        button.remove();
      });
    }
    add(app, el('h2', null, 'Culprit details'));
    detailsBox = add(app, el('div'));
    detailsUpTo(PAGE);
    const first = document.getElementById('culprit-0');
    if (first instanceof HTMLDetailsElement) first.open = true;
  }

  function detailsUpTo(limit: number): void {
    for (; shownDetails < culprits.length && shownDetails < limit; shownDetails++) detail(shownDetails);
  }

  function openCulprit(i: number): void {
    detailsUpTo(i + 1);
    const d = document.getElementById('culprit-' + i);
    if (!(d instanceof HTMLDetailsElement)) return;
    d.open = true;
    d.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  function detail(i: number): void {
    if (detailsBox === undefined) return;
    const c = at(culprits, i);
    const d = add(detailsBox, el('details', 'culprit'));
    d.id = 'culprit-' + i;
    const summary = add(d, el('summary'));
    add(summary, el('span', 'fn', name(c)));
    summary.appendChild(document.createTextNode('  '));
    add(
      summary,
      el(
        'span',
        'where',
        where(c) + ' — ' + count(c.blocks, 'block') + ', ' + ms(c.total) + ' in total, worst ' + ms(c.worst),
      ),
    );
    let filled = false;
    d.addEventListener('toggle', function () {
      if (!d.open || filled) return;
      filled = true;
      fill(add(d, el('div')), c);
    });
  }

  function fill(box: HTMLDivElement, c: CulpritData): void {
    const facts = add(box, el('p', 'note'));
    facts.textContent =
      count(c.blocks, 'block') +
      ' · mean ' +
      ms(c.total / c.blocks) +
      ' · ' +
      (c.running > 0 ? c.running + ' running' : '') +
      (c.running > 0 && c.startup > 0 ? ', ' : '') +
      (c.startup > 0 ? c.startup + ' at startup' : '') +
      ' · ' +
      (c.pids.length === 1
        ? 'pid ' + c.pids[0]
        : count(c.pids.length, 'process', 'processes') + ' (pids ' + c.pids.join(', ') + ')') +
      (c.notEnded > 0 ? ' · ' + c.notEnded + ' did not end (the process ended during the block)' : '') +
      (c.hangs > 0 ? ' · ' + count(c.hangs, 'hang') : '');
    if (HOW[c.how]) add(box, el('p', 'note', HOW[c.how]));
    if (c.file !== null) {
      add(box, el('h4', null, 'Code'));
      const excerpt = c.excerpt;
      if (excerpt) {
        if (excerpt.changed)
          add(box, el('p', 'note', 'This file was modified after the block: the lines shown may have moved since.'));
        const pre = add(box, el('pre', 'code'));
        excerpt.lines.forEach(function (text, k) {
          const number = excerpt.first + k;
          const line = add(pre, el('span', number === excerpt.mark ? 'hl' : null));
          add(line, el('em', null, number));
          line.appendChild(document.createTextNode(text));
        });
      } else {
        add(box, el('p', 'note', 'The source file could not be read where this report was made.'));
      }
    }
    if (c.stack.length > 0) {
      add(
        box,
        el(
          'h4',
          null,
          'Stack' +
            (c.stacks > 1 ? ' (the one behind the most blocked time, of ' + c.stacks + ' different stacks)' : '') +
            ' — innermost first',
        ),
      );
      const list = add(box, el('ol', 'stack'));
      let marked = false;
      c.stack.forEach(function (frame) {
        const isCulprit = !marked && frame[0] === c.fn && frame[1] === c.file && frame[2] === c.line;
        if (isCulprit) marked = true;
        add(
          list,
          el(
            'li',
            isCulprit ? 'culprit' : frame[4] ? 'internal' : null,
            frame[0] + ' (' + frame[1] + (frame[2] > 0 ? ':' + frame[2] + ':' + frame[3] : '') + ')',
          ),
        );
      });
    }
    add(
      box,
      el(
        'h4',
        null,
        'Flame view — outermost call at the top, width = blocked time, heaviest first' +
          (c.sampled ? " (from the profiler's samples: where the time went)" : ''),
      ),
    );
    flame(add(box, el('div', 'flame')), c);
    if (c.profileFiles.length > 0) {
      add(
        box,
        el(
          'p',
          'note',
          'Each block\'s samples as a .cpuprofile (Chrome DevTools\' Performance panel, "Load profile", or speedscope):',
        ),
      );
      const list = add(box, el('ul', 'profiles'));
      c.profileFiles.forEach(function (p) {
        const a = add(add(list, el('li')), el('a', null, p.file));
        a.href = 'file://' + encodeURI(p.file);
        add(list.lastChild as Node, document.createTextNode(' (' + ms(p.ms) + ')'));
      });
    }
  }

  function flame(box: HTMLDivElement, c: CulpritData): void {
    const strings = data.strings;
    const culpritName = c.fn === null ? null : c.fn + ' ' + c.file + ':' + c.line;
    // A sampled node is named by the line its function is declared on, a stack's frame by the
    // line it was at: the culprit's function and file find both.
    const culpritPrefix = c.fn === null ? null : c.fn + ' ' + c.file + ':';
    const rootTotal = c.flame[1] || 1;
    let depth = 0;
    const ROW = 20;
    function node(item: FlameNode, level: number, x: number, w: number): void {
      if (w < 0.001) return;
      const label = at(strings, item[0]);
      const div = add(
        box,
        el(
          'div',
          level === 0 ? 'root' : label.indexOf(' node:') >= 0 || label.indexOf(' <anonymous>') >= 0 ? 'internal' : null,
          label,
        ),
      );
      if (label === culpritName || (c.sampled && culpritPrefix !== null && label.indexOf(culpritPrefix) === 0))
        div.className = 'culprit';
      else if (label === '(garbage collector)') div.className = 'gc';
      else if (label === '(program)' || label === '(idle)') div.className = 'internal';
      if (!div.className) {
        let hue = 0;
        for (let k = 0; k < label.length; k++) hue = (hue * 31 + label.charCodeAt(k)) % 360;
        div.style.background = 'hsl(' + (20 + (hue % 35)) + ', 85%, ' + (68 + (hue % 12)) + '%)';
      }
      div.style.left = x * 100 + '%';
      div.style.width = w * 100 + '%';
      div.style.top = level * ROW + 'px';
      div.title =
        label +
        '\n' +
        ms(item[1]) +
        ' (' +
        Math.round((100 * item[1]) / rootTotal) +
        "% of this culprit's blocked time)";
      if (level > depth) depth = level;
      let cx = x;
      item[2].forEach(function (child) {
        const cw = (w * child[1]) / (item[1] || 1);
        node(child, level + 1, cx, cw);
        cx += cw;
      });
    }
    node(c.flame, 0, 0, 1);
    box.style.height = (depth + 1) * ROW + 2 + 'px';
  }

  function longest(): void {
    add(app, el('h2', null, 'Longest blocks'));
    const top: number[] = [];
    for (let i = 0; i < n; i++) {
      if (top.length < 15 || at(tl.d, i) > at(tl.d, at(top, top.length - 1))) {
        top.push(i);
        top.sort(function (a, b) {
          return at(tl.d, b) - at(tl.d, a);
        });
        if (top.length > 15) top.pop();
      }
    }
    const table = add(app, el('table'));
    const head = add(add(table, el('thead')), el('tr'));
    [
      ['when', ''],
      ['duration', 'num'],
      ['phase', ''],
      ['thread', ''],
      ['culprit', ''],
      ['', ''],
    ].forEach(function (h) {
      add(head, el('th', h[1], h[0]));
    });
    const body = add(table, el('tbody'));
    top.forEach(function (i) {
      const c = culpritOf(i),
        f = at(tl.f, i);
      const tr = add(body, el('tr', 'click'));
      clickable(tr, function () {
        openCulprit(at(tl.g, i));
      });
      add(tr, el('td', 'where', clock(t0 + at(tl.s, i)) + ' (' + offset(at(tl.s, i)) + ')'));
      add(tr, el('td', 'num', ms(at(tl.d, i))));
      add(tr, el('td', null, f & STARTUP ? 'startup' : 'running'));
      add(tr, el('td', null, laneName(at(tl.p, i))));
      const cell = add(tr, el('td'));
      add(cell, el('span', 'fn', name(c)));
      cell.appendChild(document.createTextNode(' '));
      add(cell, el('span', 'where', where(c)));
      const notes = add(tr, el('td'));
      if (f & NOT_ENDED) add(notes, el('span', 'tag bad', 'did not end'));
      if (f & HANG) add(notes, el('span', 'tag bad', 'hang'));
    });
  }

  function hangs(): void {
    add(app, el('h2', null, 'Hangs'));
    const table = add(app, el('table'));
    const head = add(add(table, el('thead')), el('tr'));
    ['when', 'pid', 'what', 'where', 'action'].forEach(function (h) {
      add(head, el('th', null, h));
    });
    const body = add(table, el('tbody'));
    data.hangs.forEach(function (h) {
      const tr = add(body, el('tr'));
      add(tr, el('td', 'where', h.at.replace('T', ' ').slice(0, 23)));
      add(tr, el('td', 'num', h.pid));
      add(
        tr,
        el(
          'td',
          null,
          h.reason === 'block'
            ? 'block #' + h.blockId + ' reached ' + ms(h.limitMs)
            : 'did not exit within ' + ms(h.limitMs),
        ),
      );
      add(tr, el('td', 'fn', h.function === null ? '' : h.function + ' (' + h.file + ':' + h.line + ')'));
      add(tr, el('td', null, h.action));
    });
  }

  function footer(): void {
    const foot = add(app, el('footer'));
    data.sources.forEach(function (s) {
      const extra =
        (s.malformed > 0 ? ', ' + count(s.malformed, 'malformed line') + ' skipped' : '') +
        (s.truncated ? ', last line cut short' : '');
      add(foot, el('div', null, 'Source: ' + s.name + ' — ' + count(s.events, 'event') + extra));
    });
    add(
      foot,
      el(
        'div',
        null,
        'Generated by loopwatch' +
          (data.version ? ' ' + data.version : '') +
          ' at ' +
          data.generatedAt +
          '. Self-contained: this file loads nothing from the network.',
      ),
    );
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
