/**
 * Maps generated positions to original ones in the worker, with Node's own
 * `module.SourceMap` (no dependency; built once per file, then a lookup is a binary search).
 * `module.findSourceMap` cannot be used here: its cache belongs to the main thread, so the
 * maps are read from disk: the `sourceMappingURL` comment of the generated file, inline
 * (`data:` URL) or an external file.
 */
import { readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Generated files larger than this are not searched for a map (bounded work per block). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAPPING_URL = /\/\/[#@][ \t]+sourceMappingURL=([^\s'"]+)[ \t]*$/gm;

export interface Position {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

interface LoadedMap {
  readonly map: SourceMap;
  /** Folder the map's relative `sources` are resolved against. */
  readonly base: string;
  readonly sourceRoot: string;
}

/** Turns `file://` URLs into paths; leaves `node:…` and other names alone. */
export function toPath(file: string): string {
  if (file.startsWith('file://')) {
    try {
      return fileURLToPath(file);
    } catch {
      return file;
    }
  }
  return file;
}

/** Where each line of a file on disk starts (UTF-16 offsets, as V8 counts), and whether it has a BOM. */
interface LineTable {
  readonly starts: Uint32Array;
  readonly length: number;
  readonly bom: boolean;
}

/** Files whose line tables are kept; past this the cache starts over (bounded memory). */
const MAX_TABLES = 500;
/**
 * Node's CommonJS wrapper, when a tool patched `Module.wrap`: the code then starts this many
 * characters into the script, on the same first line.
 */
const CJS_WRAPPER_LENGTH = '(function (exports, require, module, __filename, __dirname) { '.length;

export class SourceMapper {
  readonly #cache = new Map<string, LoadedMap | null>();
  readonly #tables = new Map<string, LineTable | null>();

  /**
   * Whether the code V8 ran at a frame is the file on disk: V8's offset of the position in the
   * script it ran (`position`) must be where that line and column are in the file. Code
   * transformed in memory (vitest, tsx, ts-node, bundlers' dev servers) has other line
   * lengths before the position, so its positions — and the file's own source map — do not
   * apply to the file. Type stripping keeps every offset, so it passes, rightly.
   * @returns undefined when the file cannot be read.
   */
  sameCode(file: string, line: number, column: number, position: number): boolean | undefined {
    if (!isAbsolute(file) || line < 1 || column < 1) return undefined;
    const table = this.#table(file);
    if (table === null) return undefined;
    const start = table.starts[line - 1];
    if (start === undefined) return false;
    const offset = start + column - 1;
    if (offset > table.length) return false;
    return position === offset || (table.bom && position === offset - 1) || position === offset + CJS_WRAPPER_LENGTH;
  }

  #table(file: string): LineTable | null {
    const cached = this.#tables.get(file);
    if (cached !== undefined) return cached;
    if (this.#tables.size >= MAX_TABLES) this.#tables.clear();
    let table: LineTable | null = null;
    try {
      if (statSync(file).size <= MAX_FILE_BYTES) {
        const text = readFileSync(file, 'utf8');
        const starts = [0];
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
        table = { starts: Uint32Array.from(starts), length: text.length, bom: text.charCodeAt(0) === 0xfeff };
      }
    } catch {
      table = null;
    }
    this.#tables.set(file, table);
    return table;
  }

  /** Maps a 1-based generated position; returns undefined when no map applies. */
  map(file: string, line: number, column: number): Position | undefined {
    if (!isAbsolute(file) || line < 1) return undefined;
    const loaded = this.#load(file);
    if (loaded === null) return undefined;
    const entry = loaded.map.findEntry(line - 1, Math.max(0, column - 1)) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) {
      return undefined;
    }
    return {
      file: this.#sourcePath(loaded, entry.originalSource),
      line: entry.originalLine + 1,
      column: entry.originalColumn + 1,
    };
  }

  /**
   * The original name a map gives the identifier at exactly this generated position (its
   * `names`), or undefined. Asked at a caller's call site, it names the function called there
   * as the source did before minification (`a()` → `renderInvoice`), as source-map-support
   * and Node's `--enable-source-maps` do.
   */
  nameAt(file: string, line: number, column: number): string | undefined {
    if (!isAbsolute(file) || line < 1 || column < 1) return undefined;
    const loaded = this.#load(file);
    if (loaded === null) return undefined;
    const entry = loaded.map.findEntry(line - 1, column - 1) as Partial<{
      generatedLine: number;
      generatedColumn: number;
      name: string;
    }>;
    if (entry.generatedLine !== line - 1 || entry.generatedColumn !== column - 1) return undefined;
    return typeof entry.name === 'string' && entry.name !== '' ? entry.name : undefined;
  }

  #sourcePath(loaded: LoadedMap, source: string): string {
    if (source.startsWith('file://')) return toPath(source);
    if (isAbsolute(source)) return source;
    const rooted = loaded.sourceRoot === '' ? source : `${loaded.sourceRoot.replace(/\/?$/, '/')}${source}`;
    if (rooted.startsWith('file://')) return toPath(rooted);
    return resolve(loaded.base, rooted);
  }

  #load(file: string): LoadedMap | null {
    const cached = this.#cache.get(file);
    if (cached !== undefined) return cached;
    let loaded: LoadedMap | null;
    try {
      loaded = loadMap(file);
    } catch {
      loaded = null;
    }
    this.#cache.set(file, loaded);
    return loaded;
  }
}

function loadMap(file: string): LoadedMap | null {
  if (statSync(file).size > MAX_FILE_BYTES) return null;
  const text = readFileSync(file, 'utf8');
  let url: string | undefined;
  for (const match of text.matchAll(MAPPING_URL)) url = match[1];
  if (url === undefined) return null;
  let payload: SourceMapPayload;
  let base = dirname(file);
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const header = url.slice(0, comma);
    const data = url.slice(comma + 1);
    const json = header.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
    payload = JSON.parse(json) as SourceMapPayload;
  } else {
    const mapFile = url.startsWith('file://') ? toPath(url) : resolve(dirname(file), decodeURIComponent(url));
    payload = JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload;
    base = dirname(mapFile);
  }
  // Node's type says every map has a sourceRoot; most maps written by tools leave it out.
  const sourceRoot: unknown = (payload as Partial<SourceMapPayload>).sourceRoot;
  return { map: new SourceMap(payload), base, sourceRoot: typeof sourceRoot === 'string' ? sourceRoot : '' };
}
