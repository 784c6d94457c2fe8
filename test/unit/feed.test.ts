import { afterEach, describe, expect, it } from 'vitest';
import { threadId } from 'node:worker_threads';
import { ThreadFeed } from '../../src/main/feed.js';
import { createTable, findSlot, readSlot, SLOT_STATE } from '../../src/protocol/threads.js';
import type { BlockEvent } from '../../src/types.js';
import { FeedServer, type ThreadLink } from '../../src/worker/feed.js';

/** The thread feed end to end, both ends on this thread: BroadcastChannels deliver between them. */
describe('the thread feed', () => {
  const closing: Array<() => void> = [];
  afterEach(() => {
    for (const close of closing.splice(0)) close();
  });

  function setUp(watching = true): {
    feed: ThreadFeed;
    table: ReturnType<typeof createTable>;
    link: () => ThreadLink | undefined;
    settles: number[];
  } {
    const name = `loopwatch.test-feed:${Math.random()}`;
    const table = createTable(2);
    const server = new FeedServer(name, () => undefined);
    let link: ThreadLink | undefined;
    const settles: number[] = [];
    server.serve({
      join: (id) => {
        if (id !== threadId || !watching) return false;
        link ??= server.open(id);
        return findSlot(table, id) !== -1;
      },
      settle: (id, seq) => {
        settles.push(seq);
        if (link === undefined) return false;
        // As a lifecycle with no block in progress: answered at once.
        link.settled(seq);
        return true;
      },
      status: () => ({ stackCapture: true, reason: undefined, thresholdMs: 50 }),
    });
    const feed = new ThreadFeed({ buffer: table.buffer, beatMs: 5, feed: name }, 1500);
    closing.push(
      () => feed.close(),
      () => server.close(),
    );
    return { feed, table, link: () => link, settles };
  }

  it('claims a slot with the thread’s own hang deadline, and is ready once the monitor answers JOIN', async () => {
    const { feed, table } = setUp();
    const index = findSlot(table, threadId);
    expect(readSlot(table, index)).toMatchObject({ state: SLOT_STATE.LIVE, threadId, hangMs: 1500 });
    await expect(feed.ready).resolves.toEqual({ stackCapture: true, reason: undefined, thresholdMs: 50 });
  });

  it("delivers this thread's events, then answers settle() after them", async () => {
    const { feed, link, settles } = setUp();
    await feed.ready;
    const seen: string[] = [];
    feed.onBlock((event) => seen.push(`${event.state} ${event.id}`));
    link()?.event({ type: 'block', id: 7, state: 'ended' } as BlockEvent);
    await feed.settle();
    expect(seen).toEqual(['ended 7']);
    expect(settles).toHaveLength(1);
  });

  it('rejects ready when the monitor finds no slot for the thread, and settle() then resolves at once', async () => {
    const { feed } = setUp(false);
    await expect(feed.ready).rejects.toMatchObject({ code: 'ERR_LOOPWATCH_NOT_WATCHING' });
    await feed.settle();
  });

  it('gives its slot up on close()', async () => {
    const { feed, table } = setUp();
    await feed.ready;
    const index = findSlot(table, threadId);
    feed.close();
    expect(readSlot(table, index).state).toBe(SLOT_STATE.GONE);
  });
});
