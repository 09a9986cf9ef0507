import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedProvider } from '../../src/registry/providers/embedded.js';
import { FileProvider } from '../../src/registry/providers/file.js';
import { UrlProvider } from '../../src/registry/providers/url.js';
import { ApiProvider } from '../../src/registry/providers/api.js';
import type { RegistryProvider } from '../../src/registry/providers/provider.js';
import { findServer, searchServers } from '../../src/registry/resolve.js';
import { allServers } from '../../src/registry/types.js';
import { ThvError } from '../../src/core/errors.js';
import { SHARED_REGISTRY } from '../fixtures/shared-data.js';
import { startRegistryServer, type FixtureServer, type RegistryServer } from '../fixtures/registry-server.js';

const EXAMPLE_FILE = join(SHARED_REGISTRY, 'upstream-registry-example.json');
const example = JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8')) as { data: { servers: FixtureServer[] } };

/**
 * One behaviour suite, run against every provider (as Hono runs one suite against every router):
 * the same registry data must list, resolve and search the same way whatever its source.
 */
function providerContract(label: string, make: () => RegistryProvider, expected: { count: number; full: string; short: string; tag: string }) {
  describe(`${label} provider`, () => {
    it('lists every server', async () => {
      expect(allServers(await make().fetchCatalog())).toHaveLength(expected.count);
    });
    it('finds a server by full and by short name', async () => {
      const catalog = await make().fetchCatalog();
      expect(findServer(catalog, expected.full).name).toBe(expected.full);
      expect(findServer(catalog, expected.short).name).toBe(expected.full);
    });
    it('reports an unknown name as not_found', async () => {
      const catalog = await make().fetchCatalog();
      expect(() => findServer(catalog, 'definitely-not-here')).toThrow(ThvError);
    });
    it('searches tags', async () => {
      const found = searchServers(await make().fetchCatalog(), expected.tag);
      expect(found.length).toBeGreaterThan(0);
      expect(found.every((s) => s.tags?.some((t) => t.includes(expected.tag)) || s.name.includes(expected.tag) || s.description.toLowerCase().includes(expected.tag))).toBe(true);
    });
  });
}

let server: RegistryServer;
beforeAll(async () => {
  server = await startRegistryServer({ servers: example.data.servers, pageSize: 5, document: example });
});
afterAll(() => server.close());

const exampleExpectations = { count: 12, full: 'io.github.stacklok/fetch', short: 'fetch', tag: 'web' };
providerContract('file', () => new FileProvider(EXAMPLE_FILE), exampleExpectations);
providerContract('url', () => new UrlProvider(`${server.url}/registry.json`), exampleExpectations);
providerContract('api', () => new ApiProvider({ baseUrl: server.url }), exampleExpectations);
providerContract('embedded', () => new EmbeddedProvider(), { count: 102, full: 'io.github.stacklok/github', short: 'github', tag: 'database' });

describe('provider errors', () => {
  it('a missing file is not_found, naming the path', async () => {
    const err = (await new FileProvider('/nonexistent/registry.json').fetchCatalog().catch((e: unknown) => e)) as ThvError;
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('/nonexistent/registry.json');
  });
  it('a legacy document served over HTTP is refused with the convert hint', async () => {
    const legacy = await startRegistryServer({ servers: [], document: JSON.parse(readFileSync(join(SHARED_REGISTRY, 'toolhive-legacy-registry.json'), 'utf8')) });
    try {
      const err = (await new UrlProvider(`${legacy.url}/registry.json`).fetchCatalog().catch((e: unknown) => e)) as ThvError;
      expect(err.code).toBe('registry_legacy_format');
      expect(err.hint).toContain('thv registry convert --in <file> --in-place');
    } finally {
      await legacy.close();
    }
  });
});
