/**
 * The converter against ToolHive's own goldens and catalog, and the official registry's entries
 * (reference data beside the checkout; see docs/registry.md).
 */
import { SHARED_REGISTRY } from './shared-data.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  legacyImageToServerJson,
  legacyRemoteToServerJson,
  serverJsonToCatalogServer,
  type ConversionResult,
} from '../../src/registry/convert.js';
import {
  isRemoteServer,
  type CatalogServer,
  type ImageMetadata,
  type RemoteServerMetadata,
  type ServerJson,
} from '../../src/registry/types.js';

const DATA = SHARED_REGISTRY;
const FIXTURES = join(DATA, 'converter-fixtures');

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function converted(result: ConversionResult): CatalogServer {
  if ('skipped' in result) throw new Error(`unexpectedly skipped: ${result.skipped}`);
  return result.server;
}

interface UpstreamFile {
  data: { servers: ServerJson[] };
}

describe('golden fixtures', () => {
  it('server.json with an OCI package becomes the expected ImageMetadata', () => {
    const input = readJson<ServerJson>(join(FIXTURES, 'server_to_image/input_github.json'));
    const expected = readJson<ImageMetadata>(join(FIXTURES, 'server_to_image/expected_github.json'));
    expect(converted(serverJsonToCatalogServer(input))).toStrictEqual(expected);
  });

  it('server.json with a remote becomes the expected RemoteServerMetadata', () => {
    const input = readJson<ServerJson>(join(FIXTURES, 'server_to_remote/input_example.json'));
    const expected = readJson<RemoteServerMetadata>(join(FIXTURES, 'server_to_remote/expected_example.json'));
    expect(converted(serverJsonToCatalogServer(input))).toStrictEqual(expected);
  });

  it('a legacy image entry becomes the expected server.json', () => {
    const input = readJson<ImageMetadata>(join(FIXTURES, 'image_to_server/input_github.json'));
    const expected = readJson<ServerJson>(join(FIXTURES, 'image_to_server/expected_github.json'));
    expect(legacyImageToServerJson('github', input)).toStrictEqual(expected);
  });

  it('a legacy remote entry becomes the expected server.json', () => {
    const input = readJson<RemoteServerMetadata>(join(FIXTURES, 'remote_to_server/input_example.json'));
    const expected = readJson<ServerJson>(join(FIXTURES, 'remote_to_server/expected_example.json'));
    expect(legacyRemoteToServerJson('example-remote', input)).toStrictEqual(expected);
  });
});

describe('the ToolHive upstream catalog', () => {
  const upstream = readJson<UpstreamFile>(join(DATA, 'toolhive-upstream-registry.json'));
  const legacy = readJson<{ servers: Record<string, ImageMetadata>; remote_servers: Record<string, RemoteServerMetadata> }>(
    join(DATA, 'toolhive-legacy-registry.json'),
  );
  const servers = upstream.data.servers.map((entry) => converted(serverJsonToCatalogServer(entry)));

  it('converts every entry: 79 package servers (32 with npm/pypi packages) and 23 remotes', () => {
    const local = servers.filter((s) => !isRemoteServer(s)) as ImageMetadata[];
    expect(servers).toHaveLength(102);
    expect(local).toHaveLength(79);
    expect(local.filter((s) => s.packages !== undefined)).toHaveLength(32);
    expect(servers.filter(isRemoteServer)).toHaveLength(23);
    expect(local.every((s) => typeof s.image === 'string')).toBe(true);
  });

  it('reads each entry back as the legacy catalog describes it, plus its npm/pypi packages', () => {
    for (const server of servers) {
      const short = server.name.replace(/^io\.github\.stacklok\//, '');
      const fromLegacy = isRemoteServer(server) ? legacy.remote_servers[short] : legacy.servers[short];
      const { packages: _packages, ...rest } = server as ImageMetadata;
      expect(rest, server.name).toStrictEqual({ name: server.name, ...fromLegacy });
    }
  });

  it('keeps npm and pypi packages beside the image with their runtime hints', () => {
    const agentql = servers.find((s) => s.name === 'io.github.stacklok/agentql-mcp') as ImageMetadata;
    expect(agentql.image).toBe('ghcr.io/stacklok/dockyard/npx/agentql-mcp:1.0.0');
    expect(agentql.packages).toStrictEqual([
      { registry_type: 'oci', identifier: 'ghcr.io/stacklok/dockyard/npx/agentql-mcp:1.0.0', transport: 'stdio' },
      { registry_type: 'npm', identifier: 'agentql-mcp', version: '1.0.0', runtime_hint: 'npx', transport: 'stdio' },
    ]);
    const arxiv = servers.find((s) => s.name === 'io.github.stacklok/arxiv-mcp-server') as ImageMetadata;
    expect(arxiv.packages?.[1]).toStrictEqual({
      registry_type: 'pypi',
      identifier: 'arxiv-mcp-server',
      version: '0.3.2',
      runtime_hint: 'uvx',
      transport: 'stdio',
    });
  });

  it('keeps fixed package arguments so the package can be started as a process', () => {
    const launchdarkly = servers.find((s) => s.name === 'io.github.stacklok/launchdarkly') as ImageMetadata;
    expect(launchdarkly.packages?.find((p) => p.registry_type === 'npm')?.args).toStrictEqual(['start']);
  });

  it('takes target_port from an HTTP package transport url', () => {
    const withPorts = servers.filter((s) => !isRemoteServer(s) && (s as ImageMetadata).target_port !== undefined);
    expect(withPorts).toHaveLength(19);
    for (const server of withPorts) expect(['sse', 'streamable-http']).toContain(server.transport);
  });
});

describe('official registry entries', () => {
  const seeds = readJson<ServerJson[]>(join(DATA, 'official-seed-servers.json'));

  it('an entry with npm, oci and mcpb packages is a server with the OCI image and both runnable packages', () => {
    const server = converted(serverJsonToCatalogServer(seeds[0]!)) as ImageMetadata;
    expect(server.name).toBe('io.github.domdomegg/airtable-mcp-server');
    expect(server.image).toBe('docker.io/domdomegg/airtable-mcp-server:1.7.2');
    expect(server.repository_url).toBe('https://github.com/domdomegg/airtable-mcp-server.git');
    expect(server.env_vars).toStrictEqual([
      expect.objectContaining({ name: 'AIRTABLE_API_KEY', required: true, secret: true }),
    ]);
    expect(server.packages?.map((p) => [p.registry_type, p.identifier, p.runtime_hint])).toStrictEqual([
      ['npm', 'airtable-mcp-server', 'npx'],
      ['oci', 'docker.io/domdomegg/airtable-mcp-server:1.7.2', 'docker'],
    ]);
  });

  it('a pypi-only entry is a server without an image', () => {
    const server = converted(serverJsonToCatalogServer(seeds[3]!)) as ImageMetadata;
    expect(server.image).toBeUndefined();
    expect(server.transport).toBe('stdio');
    expect(server.packages).toStrictEqual([
      { registry_type: 'pypi', identifier: 'time-mcp-pypi', version: '1.0.6', runtime_hint: 'python', transport: 'stdio' },
    ]);
  });

  it('a nuget-only entry is skipped with a reason naming the server and the package type', () => {
    const result = serverJsonToCatalogServer(seeds[2]!);
    expect(result).toStrictEqual({ skipped: expect.stringContaining('io.github.domdomegg/time-mcp-nuget') });
    expect((result as { skipped: string }).skipped).toContain('nuget');
  });
});
