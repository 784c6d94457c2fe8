// A TypeScript app compiled by the bench with a source map: a tool names the culprit right only
// if it reports this file and the culprit's line here, not the generated JavaScript.
import { writeSync } from 'node:fs';

interface Order {
  readonly id: number;
  readonly total: number;
}

function summariseOrders(orders: readonly Order[], ms: number): number {
  const end: number = Date.now() + ms;
  let revenue = 0;
  while (Date.now() < end) revenue += orders.length; // CULPRIT
  return revenue;
}

export function handleReport(ms: number): number {
  const orders: Order[] = [{ id: 1, total: 10 }];
  writeSync(1, `MARK block ${Date.now()}\n`);
  const revenue = summariseOrders(orders, ms);
  writeSync(1, `MARK unblock ${Date.now()}\n`);
  writeSync(1, `MARK done ${Date.now()}\n`);
  return revenue;
}

setTimeout(
  () => {
    handleReport(Number(process.env['BENCH_BLOCK_MS'] ?? 600));
    setTimeout(() => process.exit(0), 600);
  },
  Number(process.env['BENCH_SETTLE_MS'] ?? 300) + 200,
);
