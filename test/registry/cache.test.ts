import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachingProvider, DISK_MAX_BYTES, FRESH_MS } from '../../src/registry/cache.js';
import { RegistryAuthRequiredError, RegistryHTTPError, ThvError } from '../../src/core/errors.js';
import type { RegistryProvider } from '../../src/registry/providers/provider.js';
import type { Catalog } from '../../src/registry/types.js';
import type { Clock } from '../../src/core/clock.js';

/** A provider whose next answer the test decides: a catalog or an error. */
function scriptedProvider() {
  let next: () => Promise<Catalog> = async () => catalogOf(1);
  let calls = 0;
  const provider: RegistryProvider = {
    kind: 'api',
    source: 'https://registry.example',
    fetchCatalog: () => {
      calls++;
      return next();
    },
  };
  return {
    provider,
    calls: () => calls,
    answer: (catalog: Catalog) => (next = async () => catalog),
    fail: (err: unknown) => (next = async () => Promise.reject(err)),
  };
}

function catalogOf(n: number): Catalog {
  return { servers: Array.from({ length: n }, (_, i) => ({ name: `io.x/s${i}`, description: '' })), remote_servers: [] };
}

let dir: string;
let now: number;
const clock: Clock = { now: () => now, sleep: async () => undefined };
const file = () => join(dir, 'registry-0000abcd.json');
const cache = (p: RegistryProvider) => new CachingProvider(p, { file: file(), cacheDir: dir, clock });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'thv-cache-'));
  now = Date.now();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('caching provider', () => {
  it('serves the in-memory copy for an hour, then fetches again', async () => {
    const upstream = scriptedProvider();
    const c = cache(upstream.provider);
    await c.list();
    now += FRESH_MS - 1000;
    await c.list();
    expect(upstream.calls()).toBe(1);
    now += 2000;
    await c.list();
    expect(upstream.calls()).toBe(2);
  });

  it('a new process uses a fresh disk copy without fetching', async () => {
    const first = scriptedProvider();
    await cache(first.provider).list();
    const second = scriptedProvider();
    const result = await cache(second.provider).list();
    expect(second.calls()).toBe(0);
    expect(result.catalog.servers).toHaveLength(1);
    expect((await stat(file())).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['a 401', new RegistryHTTPError(401, 'https://registry.example/v0.1/servers', '')],
    ['a 403', new RegistryHTTPError(403, 'https://registry.example/v0.1/servers', '<html>')],
    ['a failed login', new RegistryAuthRequiredError('registry authentication required', { cause: new Error('login timed out') })],
    ['an unreadable secrets store', new ThvError('secrets_locked', 'wrong password')],
  ])('%s is never masked by cached data, in memory or on disk', async (_name, failure) => {
    const upstream = scriptedProvider();
    const c = cache(upstream.provider);
    await c.list();
    upstream.fail(failure);
    await expect(c.list({ refresh: true })).rejects.toBeInstanceOf(RegistryAuthRequiredError);
    // nor on the next plain read, in this process or a new one: the refused data is gone
    await expect(c.list()).rejects.toBeInstanceOf(RegistryAuthRequiredError);
    await expect(cache(upstream.provider).summaries()).rejects.toBeInstanceOf(RegistryAuthRequiredError);
    await expect(stat(file())).rejects.toThrow();
  });

  it('a fresh process with only the disk copy warm gets the auth error on refresh, not the data', async () => {
    const upstream = scriptedProvider();
    await cache(upstream.provider).list();
    upstream.fail(new RegistryHTTPError(401, 'https://registry.example/x', ''));
    await expect(cache(upstream.provider).list({ refresh: true })).rejects.toBeInstanceOf(RegistryAuthRequiredError);
  });

  it.each([
    ['a 500', new RegistryHTTPError(500, 'https://registry.example/x', 'boom')],
    ['a 429', new RegistryHTTPError(429, 'https://registry.example/x', '')],
    ['a refused connection', Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })],
    ['a timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
  ])('%s falls back to the cached copy, marked stale with the error and the data time', async (_name, failure) => {
    const upstream = scriptedProvider();
    const c = cache(upstream.provider);
    const good = await c.list();
    now += 2 * FRESH_MS;
    upstream.fail(failure);
    const result = await c.list();
    expect(result.catalog).toEqual(good.catalog);
    // the data's own time (the fetch, or the disk copy written right after it), not "now": not
    // before the fetch (file times may be rounded to the second), and long before the clock's now
    expect(result.stale!.fetchedAt).toBeGreaterThanOrEqual(good.fetchedAt - 1000);
    expect(result.stale!.fetchedAt).toBeLessThan(now - FRESH_MS);
    expect(result.stale?.error).toBeTruthy();
  });

  it('with no usable cache, a transient failure is returned as the error', async () => {
    const upstream = scriptedProvider();
    upstream.fail(new RegistryHTTPError(502, 'https://registry.example/x', ''));
    await expect(cache(upstream.provider).list()).rejects.toBeInstanceOf(RegistryHTTPError);
  });

  it('a 404 is an error, not a reason to serve stale data', async () => {
    const upstream = scriptedProvider();
    const c = cache(upstream.provider);
    await c.list();
    upstream.fail(new RegistryHTTPError(404, 'https://registry.example/x', ''));
    await expect(c.list({ refresh: true })).rejects.toBeInstanceOf(RegistryHTTPError);
  });

  it('discards a disk copy older than 7 days, larger than 10 MB, or corrupt', async () => {
    const upstream = scriptedProvider();
    await cache(upstream.provider).list();
    const old = new Date(now - 8 * 24 * 3600 * 1000);
    await utimes(file(), old, old);
    upstream.fail(new RegistryHTTPError(503, 'https://registry.example/x', ''));
    await expect(cache(upstream.provider).list()).rejects.toBeInstanceOf(RegistryHTTPError);
    await expect(stat(file())).rejects.toThrow();

    upstream.answer(catalogOf(2));
    await cache(upstream.provider).list();
    await writeFile(file(), JSON.stringify({ format: 1, source: 'x', catalog: catalogOf(1), pad: 'x'.repeat(DISK_MAX_BYTES) }));
    upstream.fail(new RegistryHTTPError(503, 'https://registry.example/x', ''));
    await expect(cache(upstream.provider).list()).rejects.toBeInstanceOf(RegistryHTTPError);

    await writeFile(file(), '{"format":1,');
    await expect(cache(upstream.provider).list()).rejects.toBeInstanceOf(RegistryHTTPError);
    await expect(stat(file())).rejects.toThrow();
  });

  it('a failed refresh leaves the good disk copy byte for byte', async () => {
    const upstream = scriptedProvider();
    await cache(upstream.provider).list();
    const before = await readFile(file(), 'utf8');
    upstream.fail(new ThvError('registry_invalid_response', 'registry sent an invalid response'));
    const result = await cache(upstream.provider).list({ refresh: true });
    expect(result.stale?.error).toBe('registry sent an invalid response');
    expect(await readFile(file(), 'utf8')).toBe(before);
  });

  it('summaries() reads only the header line of a fresh disk copy', async () => {
    const upstream = scriptedProvider();
    upstream.answer(catalogOf(3));
    await cache(upstream.provider).list();
    const text = await readFile(file(), 'utf8');
    // a broken catalog (the last line, after the header, table and summaries) proves the table path never parses it…
    await writeFile(file(), `${text.slice(0, text.lastIndexOf('\n'))}\n{"servers": [tru`);
    const fresh = cache(upstream.provider);
    const result = await fresh.summaries();
    expect(result.summaries.map((s) => s.name)).toEqual(['io.x/s0', 'io.x/s1', 'io.x/s2']);
    expect(result.summaries[0]).toEqual({ name: 'io.x/s0', kind: 'package', description: '' });
    expect(upstream.calls()).toBe(1);
    // …while the full read discards it and fetches again
    await fresh.list();
    expect(upstream.calls()).toBe(2);
  });

  it('summaries() follows the same rules as list() when it must fetch: auth is never masked, outages are marked stale', async () => {
    const upstream = scriptedProvider();
    await cache(upstream.provider).list();
    upstream.fail(new RegistryHTTPError(401, 'https://registry.example/x', ''));
    await expect(cache(upstream.provider).summaries({ refresh: true })).rejects.toBeInstanceOf(RegistryAuthRequiredError);
    upstream.answer(catalogOf(1));
    await cache(upstream.provider).list();
    upstream.fail(new RegistryHTTPError(503, 'https://registry.example/x', ''));
    const stale = await cache(upstream.provider).summaries({ refresh: true });
    expect(stale.stale?.error).toContain('HTTP 503');
    expect(stale.summaries).toHaveLength(1);
  });

  it('clear() forgets both copies', async () => {
    const upstream = scriptedProvider();
    const c = cache(upstream.provider);
    await c.list();
    await c.clear();
    await expect(stat(file())).rejects.toThrow();
    await c.list();
    expect(upstream.calls()).toBe(2);
  });
});
