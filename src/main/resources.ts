/**
 * What keeps the event loop alive, gathered on the main thread (only it can see its handles)
 * while an exit deadline runs, so the worker can say it if the process outlives the deadline.
 * Handles that loopwatch itself owns are unref'd and never show up.
 */
import type { ActiveResources } from '../types.js';

const MAX_HANDLES = 50;
const MAX_LINE = 200;

type Handle = {
  constructor?: { name?: string };
  address?: () => unknown;
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  pid?: number;
  spawnargs?: string[];
  fd?: number;
};

function address(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && 'port' in value) {
    const { address: host, port } = value as { address?: string; port?: number };
    return host !== undefined && host.includes(':') ? `[${host}]:${String(port)}` : `${host ?? '?'}:${String(port)}`;
  }
  return 'an unknown address';
}

/** One line saying which handle this is, as far as its public fields tell. */
export function describeHandle(handle: Handle): string {
  const kind = handle.constructor?.name ?? 'handle';
  try {
    if (
      handle === (process.stdout as unknown) ||
      handle === (process.stderr as unknown) ||
      handle === (process.stdin as unknown)
    ) {
      return `${kind} (${handle === (process.stdin as unknown) ? 'stdin' : handle === (process.stdout as unknown) ? 'stdout' : 'stderr'})`;
    }
    if (kind === 'ChildProcess' && typeof handle.pid === 'number') {
      return `child process ${handle.pid}: ${(handle.spawnargs ?? []).join(' ')}`;
    }
    if (typeof handle.remoteAddress === 'string') {
      return `${kind} ${handle.localAddress ?? '?'}:${String(handle.localPort)} → ${handle.remoteAddress}:${String(handle.remotePort)}`;
    }
    if (typeof handle.address === 'function') {
      const where = handle.address();
      if (where !== null && where !== undefined) return `${kind} listening on ${address(where)}`;
    }
  } catch {
    // A handle that cannot describe itself is still listed by its kind.
  }
  return kind;
}

export function activeResources(): ActiveResources {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  // Undocumented but present from Node 0.x to 26; the documented API gives kinds only.
  const getHandles = (process as unknown as { _getActiveHandles?: () => Handle[] })._getActiveHandles;
  const handles = (typeof getHandles === 'function' ? getHandles.call(process) : [])
    .slice(0, MAX_HANDLES)
    .map((handle) => describeHandle(handle).slice(0, MAX_LINE));
  return { at: new Date().toISOString(), counts, handles };
}
