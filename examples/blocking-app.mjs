// A small job that does two things the slow way, on the main thread:
// - renderReport() counts each customer's namesakes with a nested loop (about 500 ms, twice);
// - sortCustomers() sorts them with a hand-written bubble sort (300 ms, then it gives up).
// A timer that should tick every 50 ms shows how late it runs meanwhile.
//
//   npx loopwatch run -- node examples/blocking-app.mjs
const rows = Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `customer-${(i * 7919) % 1500}` }));

function renderReport() {
  const started = Date.now();
  let html = '';
  while (Date.now() - started < 500) {
    for (let i = 0; i < 300; i++) {
      let namesakes = 0;
      for (let j = 0; j < rows.length; j++) if (rows[j].name === rows[i].name) namesakes++;
      html += `<tr><td>${rows[i].name}</td><td>${namesakes}</td></tr>`;
    }
  }
  return html.length;
}

function sortCustomers() {
  const started = Date.now();
  const list = rows.concat(rows);
  for (let pass = 0; pass < list.length && Date.now() - started < 300; pass++) {
    for (let i = 0; i + 1 < list.length - pass; i++) {
      if (list[i].name > list[i + 1].name) [list[i], list[i + 1]] = [list[i + 1], list[i]];
    }
  }
  return list;
}

let last = Date.now();
let worstLate = 0;
const ticker = setInterval(() => {
  worstLate = Math.max(worstLate, Date.now() - last - 50);
  last = Date.now();
}, 50);

const steps = [renderReport, sortCustomers, renderReport];
console.log('running 3 jobs…');
function next() {
  const step = steps.shift();
  if (step === undefined) {
    clearInterval(ticker);
    console.log(`done; a 50 ms timer ran up to ${worstLate} ms late`);
    return;
  }
  step();
  setTimeout(next, 200);
}
setTimeout(next, 300);
