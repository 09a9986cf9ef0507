import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { RegistryAuthRequiredError, RegistryHTTPError, ThvError, describeError } from '../core/errors.js';
import { readFileIfExists, writeFileAtomic } from '../core/files.js';
import { describeNetworkError, isNetworkError } from '../core/http.js';
import { log } from '../core/log.js';
import type { RegistryProvider } from './providers/provider.js';
import { summarize, type ServerSummary } from './summary.js';
import { allServers, type Catalog, type StaleMarker } from './types.js';

export const FRESH_MS = 60 * 60 * 1000;
export const DISK_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const DISK_MAX_BYTES = 10 * 1024 * 1024;
export const CACHE_DIR_MAX_BYTES = 50 * 1024 * 1024;

export interface CachedCatalog {
  catalog: Catalog;
  fetchedAt: number;
  stale?: StaleMarker;
}

export interface CachingOptions {
  file: string;
  cacheDir: string;
  clock: Clock;
}

export interface CachedSummaries {
  summaries: ServerSummary[];
  fetchedAt: number;
  stale?: StaleMarker;
}

/**
 * The disk copy is two JSON lines: a header with the table summaries, then the full catalog. A
 * warm `thv registry list` parses only the first line (a third of the bytes, or less).
 */
interface DiskHeader {
  format: 2;
  source: string;
  summaries: ServerSummary[];
}

/**
 * Wraps a remote provider with an in-memory copy (fresh 1 h) and a disk copy (kept 7 days), under
 * the rules of docs/registry.md#caching-what-a-failing-registry-looks-like: an authentication failure is never answered with cached data; a
 * transient failure may be, and the result then carries a `stale` marker the caller must show.
 */
export class CachingProvider {
  private memory: CachedCatalog | undefined;
  /** The mtime of the disk copy the memory copy matches; undefined when the disk write failed. */
  private memoryDiskMtime: number | undefined;

  constructor(
    readonly inner: RegistryProvider,
    private readonly options: CachingOptions,
  ) {}

  async list(opts: { refresh?: boolean } = {}): Promise<CachedCatalog> {
    const now = this.options.clock.now();
    const memory = opts.refresh ? undefined : await this.currentMemory(now);
    if (memory) return memory;
    const disk = await this.readDisk(now);
    if (!opts.refresh && disk && now - disk.fetchedAt < FRESH_MS) {
      this.memory = disk;
      this.memoryDiskMtime = disk.fetchedAt;
      return disk;
    }
    let catalog: Catalog;
    try {
      catalog = await this.inner.fetchCatalog();
    } catch (err) {
      if (isAuthFailure(err)) {
        // Data the registry now refuses to give us must not come back as "fresh" on the next
        // command either: both copies go, and the next read asks the registry (docs/registry.md#caching-what-a-failing-registry-looks-like).
        await this.clear();
        throw asAuthRequired(err);
      }
      const usable = newest(this.memory, disk);
      if (usable && mayServeStale(err)) {
        const error = describeFailure(err);
        log().debug({ registry: this.inner.source, error }, 'serving cached registry data after a transient failure');
        return { catalog: usable.catalog, fetchedAt: usable.fetchedAt, stale: { error, fetchedAt: usable.fetchedAt } };
      }
      throw asUnavailable(err, this.inner.source);
    }
    this.memory = { catalog, fetchedAt: this.options.clock.now() };
    this.memoryDiskMtime = await this.writeDisk(catalog);
    return this.memory;
  }

  /** Like list(), but a fresh disk copy is read only as far as the table needs. */
  async summaries(opts: { refresh?: boolean } = {}): Promise<CachedSummaries> {
    const now = this.options.clock.now();
    if (!opts.refresh && !(await this.currentMemory(now))) {
      const header = await this.readDiskHeader(now);
      if (header && now - header.fetchedAt < FRESH_MS) return header;
    }
    const full = await this.list(opts);
    return { summaries: allServers(full.catalog).map(summarize), fetchedAt: full.fetchedAt, ...(full.stale ? { stale: full.stale } : {}) };
  }

  /** Forgets both copies (logout, or a changed registry). */
  async clear(): Promise<void> {
    this.memory = undefined;
    await rm(this.options.file, { force: true });
  }

  /**
   * The memory copy while fresh and while the disk copy it matches is still there unchanged: a
   * logout in another process removes the disk copy, and must end what this process serves too.
   */
  private async currentMemory(now: number): Promise<CachedCatalog | undefined> {
    if (!this.memory || now - this.memory.fetchedAt >= FRESH_MS) return undefined;
    const mtime = await stat(this.options.file).then((s) => s.mtimeMs, () => undefined);
    if (mtime === undefined || mtime !== this.memoryDiskMtime) {
      this.memory = undefined;
      return undefined;
    }
    return this.memory;
  }

  private async readDisk(now: number): Promise<CachedCatalog | undefined> {
    const disk = await this.readDiskText(now);
    if (!disk) return undefined;
    try {
      const catalog = JSON.parse(disk.text.slice(disk.text.indexOf('\n') + 1)) as Catalog;
      if (!Array.isArray(catalog?.servers) || !Array.isArray(catalog?.remote_servers)) return this.discard('not a thv registry cache');
      return { catalog, fetchedAt: disk.mtime };
    } catch {
      return this.discard('corrupt');
    }
  }

  private async readDiskHeader(now: number): Promise<CachedSummaries | undefined> {
    const disk = await this.readDiskText(now);
    if (!disk) return undefined;
    const end = disk.text.indexOf('\n');
    try {
      const header = JSON.parse(end === -1 ? disk.text : disk.text.slice(0, end)) as DiskHeader;
      if (header?.format !== 2 || !Array.isArray(header.summaries) || end === -1) return this.discard('not a thv registry cache');
      return { summaries: header.summaries, fetchedAt: disk.mtime };
    } catch {
      return this.discard('corrupt');
    }
  }

  /** The disk copy's text and time, or undefined (and the file removed) when too old or too large. */
  private async readDiskText(now: number): Promise<{ text: string; mtime: number } | undefined> {
    let info: { size: number; mtimeMs: number };
    try {
      info = await stat(this.options.file);
    } catch {
      return undefined;
    }
    if (now - info.mtimeMs > DISK_MAX_AGE_MS) return this.discard('older than 7 days');
    if (info.size > DISK_MAX_BYTES) return this.discard('larger than 10 MB');
    const text = await readFileIfExists(this.options.file);
    return text === undefined ? undefined : { text, mtime: info.mtimeMs };
  }

  private async discard(why: string): Promise<undefined> {
    log().debug({ file: this.options.file, why }, 'discarding registry disk cache');
    await rm(this.options.file, { force: true });
    return undefined;
  }

  /** Returns the written file's mtime, or undefined when it could not be written. */
  private async writeDisk(catalog: Catalog): Promise<number | undefined> {
    const header: DiskHeader = { format: 2, source: this.inner.source, summaries: allServers(catalog).map(summarize) };
    try {
      // Compact JSON: the cache is read on every warm start, and its size is parse time.
      await writeFileAtomic(this.options.file, `${JSON.stringify(header)}\n${JSON.stringify(catalog)}`);
      const { mtimeMs } = await stat(this.options.file);
      await pruneCacheDir(this.options.cacheDir, this.options.file);
      return mtimeMs;
    } catch (err) {
      // A cache that cannot be written costs speed, not correctness.
      log().warn({ file: this.options.file, error: describeError(err) }, 'could not write the registry cache');
      return undefined;
    }
  }
}

function newest(a?: CachedCatalog, b?: CachedCatalog): CachedCatalog | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.fetchedAt >= b.fetchedAt ? a : b;
}

function isAuthFailure(err: unknown): boolean {
  if (err instanceof RegistryHTTPError) return err.isUnauthorized;
  return err instanceof ThvError && ['registry_auth_required', 'auth_failed', 'secrets_locked', 'secrets_unavailable'].includes(err.code);
}

function asAuthRequired(err: unknown): RegistryAuthRequiredError {
  if (err instanceof RegistryAuthRequiredError) return err;
  return new RegistryAuthRequiredError(undefined, { cause: err });
}

/** Transient failures (network, 5xx, 429) and broken replies may be answered from cache, visibly. */
function mayServeStale(err: unknown): boolean {
  if (err instanceof RegistryHTTPError) return err.status >= 500 || err.status === 429 || err.status === 408;
  if (err instanceof ThvError) return err.code === 'registry_invalid_response' || err.code === 'registry_unavailable';
  return isNetworkError(err);
}

function describeFailure(err: unknown): string {
  if (err instanceof ThvError) return err.message;
  return describeNetworkError(err);
}

function asUnavailable(err: unknown, source: string): unknown {
  if (err instanceof ThvError) return err;
  if (isNetworkError(err)) {
    return new ThvError('registry_unavailable', `registry ${source} is unreachable: ${describeNetworkError(err)}`, {
      cause: err,
      hint: 'Check the URL and your network, or run `thv config get-registry`.',
    });
  }
  return err;
}

/** Keeps the cache folder under 50 MB by removing the least recently written registry caches. */
async function pruneCacheDir(dir: string, keep: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => /^registry-[0-9a-f]{8}\.json$/.test(n));
  const files = await Promise.all(
    names.map(async (n) => {
      const s = await stat(join(dir, n));
      return { path: join(dir, n), size: s.size, mtime: s.mtimeMs };
    }),
  );
  let total = files.reduce((sum, f) => sum + f.size, 0);
  for (const f of files.sort((a, b) => a.mtime - b.mtime)) {
    if (total <= CACHE_DIR_MAX_BYTES) break;
    if (f.path === keep) continue;
    await rm(f.path, { force: true });
    total -= f.size;
  }
}
