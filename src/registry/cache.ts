import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { RegistryAuthRequiredError, RegistryHTTPError, ThvError, describeError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { describeNetworkError, isNetworkError } from '../core/http.js';
import { log } from '../core/log.js';
import type { RegistryProvider } from './providers/provider.js';
import { summarize, type ServerSummary } from './summary.js';
import { allServers, type Catalog, type StaleMarker } from './types.js';
import { DISK_MAX_AGE_MS, DISK_MAX_BYTES, FRESH_MS, diskLayout, encodeDiskCache, type RenderedTable } from './disk-cache.js';

export { DISK_MAX_AGE_MS, DISK_MAX_BYTES, FRESH_MS } from './disk-cache.js';

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
  /**
   * The catalog table as the CLI prints it to a pipe, kept in the disk copy so a warm `thv registry
   * list` only copies it out (docs/architecture.md#start-up); the CLI passes it, the API does not.
   */
  renderTable?: (summaries: ServerSummary[]) => RenderedTable;
}

export interface CachedSummaries {
  summaries: ServerSummary[];
  fetchedAt: number;
  stale?: StaleMarker;
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
    const disk = await this.readDiskBytes(now);
    if (!disk) return undefined;
    const layout = diskLayout(disk.bytes, disk.bytes.length);
    if (!layout) return this.discard('not a thv registry cache');
    try {
      const catalog = JSON.parse(disk.bytes.toString('utf8', layout.catalogStart)) as Catalog;
      if (!Array.isArray(catalog?.servers) || !Array.isArray(catalog?.remote_servers)) return this.discard('not a thv registry cache');
      return { catalog, fetchedAt: disk.mtime };
    } catch {
      return this.discard('corrupt');
    }
  }

  private async readDiskHeader(now: number): Promise<CachedSummaries | undefined> {
    const disk = await this.readDiskBytes(now);
    if (!disk) return undefined;
    const layout = diskLayout(disk.bytes, disk.bytes.length);
    if (!layout) return this.discard('not a thv registry cache');
    try {
      const summaries = JSON.parse(disk.bytes.toString('utf8', layout.summaries.start, layout.summaries.end)) as ServerSummary[];
      if (!Array.isArray(summaries)) return this.discard('not a thv registry cache');
      return { summaries, fetchedAt: disk.mtime };
    } catch {
      return this.discard('corrupt');
    }
  }

  /** The disk copy's bytes and time, or undefined (and the file removed) when too old or too large. */
  private async readDiskBytes(now: number): Promise<{ bytes: Buffer; mtime: number } | undefined> {
    let info: { size: number; mtimeMs: number };
    try {
      info = await stat(this.options.file);
    } catch {
      return undefined;
    }
    if (now - info.mtimeMs > DISK_MAX_AGE_MS) return this.discard('older than 7 days');
    if (info.size > DISK_MAX_BYTES) return this.discard('larger than 10 MB');
    const bytes = await readFile(this.options.file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    return bytes === undefined ? undefined : { bytes, mtime: info.mtimeMs };
  }

  private async discard(why: string): Promise<undefined> {
    log().debug({ file: this.options.file, why }, 'discarding registry disk cache');
    await rm(this.options.file, { force: true });
    return undefined;
  }

  /** Returns the written file's mtime, or undefined when it could not be written. */
  private async writeDisk(catalog: Catalog): Promise<number | undefined> {
    const summaries = allServers(catalog).map(summarize);
    try {
      let bytes = encodeDiskCache(this.inner.source, summaries, catalog, this.options.renderTable?.(summaries));
      // The table is a speed-up: a catalog near the size limit is kept without it.
      if (bytes.length > DISK_MAX_BYTES) bytes = encodeDiskCache(this.inner.source, summaries, catalog);
      await writeFileAtomic(this.options.file, bytes);
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
