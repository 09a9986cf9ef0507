/** `thv registry convert` against ToolHive's published legacy and upstream catalogs (reference data). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  UPSTREAM_REGISTRY_SCHEMA,
  convertLegacyDocument,
  convertLegacyFile,
  isLegacyDocument,
  type UpstreamDocument,
} from '../../src/registry/legacy.js';
import type { ServerJson } from '../../src/registry/types.js';
import { SHARED_REGISTRY } from './shared-data.js';

const LEGACY_FILE = join(SHARED_REGISTRY, 'toolhive-legacy-registry.json');
const UPSTREAM_FILE = join(SHARED_REGISTRY, 'toolhive-upstream-registry.json');

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** The legacy format has no field for the npm/pypi packages ToolHive publishes beside dockyard images. */
function withoutProcessPackages(server: ServerJson): ServerJson {
  if (!server.packages) return server;
  return { ...server, packages: server.packages.filter((p) => p.registryType === 'oci') };
}

it('recognises ToolHive\'s legacy catalog and not its upstream one', () => {
  expect(isLegacyDocument(readJson(LEGACY_FILE))).toBe(true);
  expect(isLegacyDocument(readJson(UPSTREAM_FILE))).toBe(false);
});

describe('convertLegacyDocument on ToolHive\'s catalog', () => {
  const upstream = readJson<UpstreamDocument>(UPSTREAM_FILE);
  const converted = convertLegacyDocument(readJson(LEGACY_FILE));

  it('produces the published upstream wrapper', () => {
    expect(converted.$schema).toBe(UPSTREAM_REGISTRY_SCHEMA);
    expect({ $schema: converted.$schema, version: converted.version, meta: converted.meta }).toStrictEqual({
      $schema: upstream.$schema,
      version: upstream.version,
      meta: upstream.meta,
    });
  });

  it('produces the published servers, in the published order, apart from npm/pypi packages', () => {
    expect(converted.data.servers.map((s) => s.name)).toStrictEqual(upstream.data.servers.map((s) => s.name));
    expect(converted.data.servers).toStrictEqual(upstream.data.servers.map(withoutProcessPackages));
    const differing = upstream.data.servers.filter((s) => s.packages?.some((p) => p.registryType !== 'oci'));
    expect(differing).toHaveLength(32);
  });
});

describe('convertLegacyFile on ToolHive\'s catalog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'thv-legacy-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes all 102 servers, readable like any registry file', async () => {
    const out = join(dir, 'registry.json');
    const result = await convertLegacyFile({ inFile: LEGACY_FILE, outFile: out });
    expect(result.count).toBe(102);
    expect(JSON.parse(await readFile(out, 'utf8'))).toStrictEqual(convertLegacyDocument(readJson(LEGACY_FILE)));
  });
});
