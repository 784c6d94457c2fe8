// An ordinary HTTP server with one innocent-looking route that blocks the event loop: it
// removes duplicate products with a quadratic loop. Every other request waits meanwhile.
//
//   node --import loopwatch/register examples/server.mjs
import { createServer } from 'node:http';

const products = Array.from({ length: 9000 }, (_, i) => ({ sku: `SKU-${i % 8000}`, name: `Product ${i}` }));

function isDuplicate(list, item, until) {
  for (let i = 0; i < until; i++) if (list[i].sku === item.sku) return true;
  return false;
}

function dedupeProducts(list) {
  const out = [];
  for (let i = 0; i < list.length; i++) if (!isDuplicate(list, list[i], i)) out.push(list[i]);
  return out;
}

function handleCatalog(res) {
  const unique = dedupeProducts(products);
  res.end(JSON.stringify({ count: unique.length }));
}

const server = createServer((req, res) => {
  if (req.url === '/catalog') return handleCatalog(res);
  res.end('ok');
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close());
