import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { RegistryAuthRequiredError, RegistryHTTPError, ThvError, describeError } from '../core/errors.js';
import { fileMtimeMs, readFileIfExists, writeFileAtomic } from '../core/files.js';
import { describeNetworkError, isNetworkError } from '../core/http.js';
import { log } from '../core/log.js';
import type { RegistryProvider } from './providers/provider.js';
import type { Catalog, StaleMarker } from './types.js';

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

interface DiskFormat {
  format: 1;
  source: string;
  catalog: Catalog;
}

/**
 * Wraps a remote provider with an in-memory copy (fresh 1 h) and a disk copy (kept 7 days), under
 * the rules of SPEC §3.3: an authentication failure is never answered with cached data; a
 * transient failure may be, and the result then carries a `stale` marker the caller must show.
 */
export class CachingProvider {
  private memory: CachedCatalog | undefined;

  constructor(
    readonly inner: RegistryProvider,
    private readonly options: CachingOptions,
  ) {}

  async list(opts: { refresh?: boolean } = {}): Promise<CachedCatalog> {
    const now = this.options.clock.now();
    if (!opts.refresh && this.memory && now - this.memory.fetchedAt < FRESH_MS) return this.memory;
    const disk = await this.readDisk(now);
    if (!opts.refresh && disk && now - disk.fetchedAt < FRESH_MS) {
      this.memory = disk;
      return disk;
    }
    let catalog: Catalog;
    try {
      catalog = await this.inner.fetchCatalog();
    } catch (err) {
      if (isAuthFailure(err)) throw asAuthRequired(err);
      const usable = newest(this.memory, disk);
      if (usable && mayServeStale(err)) {
        const error = describeFailure(err);
        log().debug({ registry: this.inner.source, error }, 'serving cached registry data after a transient failure');
        return { catalog: usable.catalog, fetchedAt: usable.fetchedAt, stale: { error, fetchedAt: usable.fetchedAt } };
      }
      throw asUnavailable(err, this.inner.source);
    }
    this.memory = { catalog, fetchedAt: this.options.clock.now() };
    await this.writeDisk(catalog);
    return this.memory;
  }

  /** Forgets both copies (logout, or a changed registry). */
  async clear(): Promise<void> {
    this.memory = undefined;
    await rm(this.options.file, { force: true });
  }

  private async readDisk(now: number): Promise<CachedCatalog | undefined> {
    const file = this.options.file;
    let size: number;
    let mtime: number | undefined;
    try {
      size = (await stat(file)).size;
      mtime = await fileMtimeMs(file);
    } catch {
      return undefined;
    }
    if (mtime === undefined) return undefined;
    const discard = async (why: string) => {
      log().debug({ file, why }, 'discarding registry disk cache');
      await rm(file, { force: true });
      return undefined;
    };
    if (now - mtime > DISK_MAX_AGE_MS) return discard('older than 7 days');
    if (size > DISK_MAX_BYTES) return discard('larger than 10 MB');
    try {
      const parsed = JSON.parse((await readFileIfExists(file)) ?? '') as DiskFormat;
      if (parsed?.format !== 1 || !Array.isArray(parsed.catalog?.servers) || !Array.isArray(parsed.catalog?.remote_servers)) {
        return discard('not a thv registry cache');
      }
      return { catalog: parsed.catalog, fetchedAt: mtime };
    } catch {
      return discard('corrupt');
    }
  }

  private async writeDisk(catalog: Catalog): Promise<void> {
    const body: DiskFormat = { format: 1, source: this.inner.source, catalog };
    try {
      // Compact JSON: the cache is read on every warm start, and its size is parse time.
      await writeFileAtomic(this.options.file, JSON.stringify(body));
      await pruneCacheDir(this.options.cacheDir, this.options.file);
    } catch (err) {
      // A cache that cannot be written costs speed, not correctness.
      log().warn({ file: this.options.file, error: describeError(err) }, 'could not write the registry cache');
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
