/**
 * Follows a file another process appends to (the child's events file), reading only the bytes
 * added since the last read. `fs.watch` wakes it as soon as the worker writes; a 100 ms poll
 * covers file systems where watching does not work, and the time before the file exists.
 */
import { type FSWatcher, closeSync, fstatSync, openSync, readSync, watch } from 'node:fs';

const POLL_MS = 100;
const CHUNK = 64 * 1024;

export class Tail {
  #fd: number | undefined;
  #position: number;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #buffer = Buffer.allocUnsafe(CHUNK);
  readonly #path: string;
  readonly #onData: (chunk: Buffer) => void;

  /** `from`: the size the file had before the run (an `--events` file may hold older runs). */
  constructor(path: string, from: number, onData: (chunk: Buffer) => void) {
    this.#path = path;
    this.#position = from;
    this.#onData = onData;
  }

  start(): void {
    this.#timer = setInterval(() => this.read(), POLL_MS);
    this.read();
  }

  /** Reads what was appended; safe to call at any time. */
  read(): void {
    if (this.#fd === undefined && !this.#open()) return;
    const fd = this.#fd as number;
    // Someone truncated or replaced the file: start again from its beginning.
    if (fstatSync(fd).size < this.#position) this.#position = 0;
    for (;;) {
      const n = readSync(fd, this.#buffer, 0, CHUNK, this.#position);
      if (n === 0) return;
      this.#position += n;
      this.#onData(Buffer.from(this.#buffer.subarray(0, n)));
    }
  }

  /** Reads what is left and stops following. */
  stop(): void {
    this.read();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#watcher?.close();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #open(): boolean {
    try {
      this.#fd = openSync(this.#path, 'r');
    } catch {
      return false; // not written yet: the worker creates it with the first event
    }
    try {
      this.#watcher = watch(this.#path, { persistent: false }, () => this.read());
      this.#watcher.on('error', () => this.#watcher?.close());
    } catch {
      // Polling alone, then.
    }
    return true;
  }
}
