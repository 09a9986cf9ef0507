import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedProvider } from '../../src/registry/providers/embedded.js';
import { FileProvider } from '../../src/registry/providers/file.js';
import { UrlProvider } from '../../src/registry/providers/url.js';
import { ApiProvider } from '../../src/registry/providers/api.js';
import type { ThvError } from '../../src/core/errors.js';
import { providerContract } from '../fixtures/provider-contract.js';
import { startRegistryServer, type FixtureServer, type RegistryServer } from '../fixtures/registry-server.js';

/** A team-written registry; ToolHive's example registry is run through the same suite in test/compat/. */
const FIXTURES = join(import.meta.dirname, '../fixtures/registry');
const EXAMPLE_FILE = join(FIXTURES, 'example-registry.json');
const example = JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8')) as { data: { servers: FixtureServer[] } };

let server: RegistryServer;
beforeAll(async () => {
  server = await startRegistryServer({ servers: example.data.servers, pageSize: 5, document: example });
});
afterAll(() => server.close());

const exampleExpectations = { count: 6, full: 'io.github.stacklok/fetch', short: 'fetch', tag: 'web' };
providerContract('file', () => new FileProvider(EXAMPLE_FILE), exampleExpectations);
providerContract('url', () => new UrlProvider(`${server.url}/registry.json`), exampleExpectations);
providerContract('api', () => new ApiProvider({ baseUrl: server.url }), exampleExpectations);
providerContract('embedded', () => new EmbeddedProvider(), { count: 104, full: 'io.github.stacklok/github', short: 'github', tag: 'database' });

describe('provider errors', () => {
  it('a missing file is not_found, naming the path', async () => {
    const err = (await new FileProvider('/nonexistent/registry.json').fetchCatalog().catch((e: unknown) => e)) as ThvError;
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('/nonexistent/registry.json');
  });
  it('a legacy document served over HTTP is refused with the convert hint', async () => {
    const legacy = await startRegistryServer({ servers: [], document: JSON.parse(readFileSync(join(FIXTURES, 'legacy-registry.json'), 'utf8')) });
    try {
      const err = (await new UrlProvider(`${legacy.url}/registry.json`).fetchCatalog().catch((e: unknown) => e)) as ThvError;
      expect(err.code).toBe('registry_legacy_format');
      expect(err.hint).toContain('thv registry convert --in <file> --in-place');
    } finally {
      await legacy.close();
    }
  });
});
