/** Every provider reads ToolHive's example registry alike; its legacy catalog over HTTP is refused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileProvider } from '../../src/registry/providers/file.js';
import { UrlProvider } from '../../src/registry/providers/url.js';
import { ApiProvider } from '../../src/registry/providers/api.js';
import type { ThvError } from '../../src/core/errors.js';
import { providerContract } from '../fixtures/provider-contract.js';
import { startRegistryServer, type FixtureServer, type RegistryServer } from '../fixtures/registry-server.js';
import { SHARED_REGISTRY } from './shared-data.js';

const EXAMPLE_FILE = join(SHARED_REGISTRY, 'upstream-registry-example.json');
const example = JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8')) as { data: { servers: FixtureServer[] } };

let server: RegistryServer;
beforeAll(async () => {
  server = await startRegistryServer({ servers: example.data.servers, pageSize: 5, document: example });
});
afterAll(() => server.close());

const exampleExpectations = { count: 12, full: 'io.github.stacklok/fetch', short: 'fetch', tag: 'web' };
providerContract('file', () => new FileProvider(EXAMPLE_FILE), exampleExpectations);
providerContract('url', () => new UrlProvider(`${server.url}/registry.json`), exampleExpectations);
providerContract('api', () => new ApiProvider({ baseUrl: server.url }), exampleExpectations);

describe('ToolHive\'s legacy catalog', () => {
  it('served over HTTP is refused with the convert hint', async () => {
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
