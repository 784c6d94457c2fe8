/**
 * Writes each block's samples as a Chrome DevTools `.cpuprofile` (`profileDir`), within a
 * count and a size per process. The first files are kept: a process that blocks again and
 * again keeps the profiles of its first blocks, which are most often the ones a person looks
 * for, and a full disk is never the result of a loop. Synchronous writes, like every sink of
 * the monitor: it runs on its own thread, and the file must be there when the `ended` event
 * naming it is read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../common/text.js';
import type { ProfileFilesOptions } from '../types.js';
import type { WarnOnce } from './outputs.js';
import type { CpuProfile } from './profiler.js';

export class ProfileFiles {
  readonly #options: ProfileFilesOptions;
  readonly #warnOnce: WarnOnce;
  #files = 0;
  #bytes = 0;

  constructor(options: ProfileFilesOptions, warnOnce: WarnOnce) {
    this.#options = options;
    this.#warnOnce = warnOnce;
  }

  /** The file's path, or undefined (block too short, bound reached, write failed: said once). */
  write(
    name: { pid: number; thread: string; id: number },
    durationMs: number,
    profile: CpuProfile,
  ): string | undefined {
    const { dir, minMs, maxFiles, maxBytes } = this.#options;
    if (durationMs < minMs) return undefined;
    if (this.#files >= maxFiles) {
      this.#warnOnce('profile-files', `${maxFiles} .cpuprofile files written (profileMaxFiles): later blocks get none`);
      return undefined;
    }
    const text = JSON.stringify(profile);
    const bytes = Buffer.byteLength(text);
    if (this.#bytes + bytes > maxBytes) {
      this.#warnOnce(
        'profile-files',
        `.cpuprofile files would pass ${Math.round(maxBytes / 1048576)} MB (profileMaxMb): later blocks get none`,
      );
      return undefined;
    }
    const file = join(dir, `loopwatch-${name.pid}-${name.thread.replace(' ', '-')}-${name.id}.cpuprofile`);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, text);
    } catch (error) {
      this.#warnOnce('profile-files', `cannot write .cpuprofile files to ${dir}: ${messageOf(error)}`);
      return undefined;
    }
    this.#files++;
    this.#bytes += bytes;
    return file;
  }
}
