// A small job that renders a report the slow way: `renderReport()` counts each customer's
// namesakes with a nested loop and holds the event loop for about half a second, twice. A
// timer that should tick every 50 ms shows how late it runs meanwhile.
//
//   npx loopwatch run -- node examples/blocking-app.mjs
const rows = Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `customer-${i % 1500}` }));

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

let last = Date.now();
let worstLate = 0;
const ticker = setInterval(() => {
  worstLate = Math.max(worstLate, Date.now() - last - 50);
  last = Date.now();
}, 50);

console.log('rendering two reports…');
setTimeout(() => {
  renderReport();
  setTimeout(() => {
    renderReport();
    clearInterval(ticker);
    console.log(`done; a 50 ms timer ran up to ${worstLate} ms late`);
  }, 300);
}, 300);
