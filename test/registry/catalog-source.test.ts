/** catalog/servers.yaml → the embedded registry document: what the build accepts and how it reports mistakes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRegistryDocument, CatalogError } from '../../scripts/catalog.mjs';
import { parseRegistryDocument } from '../../src/registry/document.js';
import { allServers } from '../../src/registry/types.js';

const SOURCE = readFileSync(join(import.meta.dirname, '../../catalog/servers.yaml'), 'utf8');

const minimal = (server: string) => `version: 1.0.0
last_updated: 2026-11-30T00:00:00Z
servers:
${server}
remotes: []
`;
const GOOD = `  - name: clock
    description: Tells the time in any time zone
    npm: "@thv-fixtures/clock@1.2.3"
    tier: Community
    tags: [time]`;

function failure(text: string): string {
  try {
    buildRegistryDocument(text, 'catalog/servers.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogError);
    return (err as Error).message;
  }
  throw new Error('the catalog was accepted');
}

describe('the catalog source', () => {
  it('becomes an upstream registry document that thv reads back without skipping an entry', () => {
    const doc = buildRegistryDocument(SOURCE);
    expect(doc.$schema).toMatch(/upstream-registry\.schema\.json$/);
    expect(doc.meta.last_updated).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const catalog = parseRegistryDocument(JSON.stringify(doc), 'embedded catalog');
    expect(allServers(catalog)).toHaveLength(doc.data.servers.length);
    expect(new Set(doc.data.servers.map((s) => s.name)).size).toBe(doc.data.servers.length);
  });

  it('covers the MCP project\'s reference servers, each runnable without a container', () => {
    const catalog = parseRegistryDocument(JSON.stringify(buildRegistryDocument(SOURCE)), 'embedded catalog');
    for (const name of ['everything', 'filesystem', 'git', 'memory', 'sequentialthinking', 'time', 'mcp-server-fetch']) {
      const server = catalog.servers.find((s) => s.name === `io.github.stacklok/${name}`);
      expect(server?.packages?.some((p) => p.registry_type === 'npm' || p.registry_type === 'pypi'), name).toBe(true);
    }
  });

  it('puts ToolHive\'s extension under the image, the package or the url it describes', () => {
    const doc = buildRegistryDocument(minimal(GOOD));
    const entry = doc.data.servers[0]!;
    expect(entry._meta).toStrictEqual({
      'io.modelcontextprotocol.registry/publisher-provided': {
        'io.github.stacklok': { '@thv-fixtures/clock': { status: 'Active', tier: 'Community', tags: ['time'] } },
      },
    });
    expect(entry.packages).toStrictEqual([
      { registryType: 'npm', identifier: '@thv-fixtures/clock', version: '1.2.3', runtimeHint: 'npx', transport: { type: 'stdio' } },
    ]);
  });

  it('a misspelt key fails with the file, line and key', () => {
    const message = failure(minimal(GOOD.replace('    tier:', '    teir:')));
    expect(message).toContain('catalog/servers.yaml:7:11: servers.0.teir: Unrecognized key: "teir"');
  });

  it('an unpinned package, an unpinned image or a missing port is refused where it is written', () => {
    expect(failure(minimal(GOOD.replace('@1.2.3', '')))).toMatch(/^catalog\/servers\.yaml:6:10: servers\.0\.npm: .*pinned version/);
    expect(failure(minimal(`${GOOD}\n    image: ghcr.io/thv-fixtures/clock`))).toMatch(/:9:12: servers\.0\.image: pin the image/);
    expect(failure(minimal(`${GOOD}\n    transport: sse`))).toMatch(/:9:16: servers\.0\.transport: a sse server needs the port/);
  });

  it('a server with nothing to run, a duplicate name or a long description is refused', () => {
    expect(failure(minimal(GOOD.replace(/\n {4}npm: .*/, '')))).toContain('give an image, an npm or a pypi package');
    expect(failure(minimal(`${GOOD}\n${GOOD}`))).toMatch(/:9:11: servers\.1\.name: "clock" is already used by servers\[0\]/);
    expect(failure(minimal(GOOD.replace('Tells the time in any time zone', 'x'.repeat(121))))).toContain('at most 120 characters');
  });

  it('broken YAML is reported with its line', () => {
    expect(failure(minimal(GOOD.replace('tags: [time]', 'tags: [time')))).toMatch(/^catalog\/servers\.yaml:\d+:\d+: /);
  });
});
