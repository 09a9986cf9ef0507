import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
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
import { buildRegistryDocument } from '../../scripts/catalog.mjs';
import { parse as parseYaml } from 'yaml';

/** Team-written golden pairs; ToolHive's own goldens are checked by test/compat/converter.test.ts. */
const FIXTURES = join(import.meta.dirname, '../fixtures/registry/converter');

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function converted(result: ConversionResult): CatalogServer {
  if ('skipped' in result) throw new Error(`unexpectedly skipped: ${result.skipped}`);
  return result.server;
}

describe('golden fixtures', () => {
  it('server.json with an OCI package becomes the expected ImageMetadata', () => {
    const input = readJson<ServerJson>(join(FIXTURES, 'server-to-image.input.json'));
    const expected = readJson<ImageMetadata>(join(FIXTURES, 'server-to-image.expected.json'));
    expect(converted(serverJsonToCatalogServer(input))).toStrictEqual(expected);
  });

  it('server.json with a remote becomes the expected RemoteServerMetadata', () => {
    const input = readJson<ServerJson>(join(FIXTURES, 'server-to-remote.input.json'));
    const expected = readJson<RemoteServerMetadata>(join(FIXTURES, 'server-to-remote.expected.json'));
    expect(converted(serverJsonToCatalogServer(input))).toStrictEqual(expected);
  });

  it('a legacy image entry becomes the expected server.json', () => {
    const input = readJson<ImageMetadata>(join(FIXTURES, 'image-to-server.input.json'));
    const expected = readJson<ServerJson>(join(FIXTURES, 'image-to-server.expected.json'));
    expect(legacyImageToServerJson('pantry', input)).toStrictEqual(expected);
  });

  it('a legacy remote entry becomes the expected server.json', () => {
    const input = readJson<RemoteServerMetadata>(join(FIXTURES, 'remote-to-server.input.json'));
    const expected = readJson<ServerJson>(join(FIXTURES, 'remote-to-server.expected.json'));
    expect(legacyRemoteToServerJson('calendar-remote', input)).toStrictEqual(expected);
  });
});

describe('the embedded catalog (catalog/servers.yaml)', () => {
  const sourceFile = join(import.meta.dirname, '../../catalog/servers.yaml');
  const sourceText = readFileSync(sourceFile, 'utf8');
  const document = buildRegistryDocument(sourceText);
  const servers = document.data.servers.map((entry) => converted(serverJsonToCatalogServer(entry)));
  interface SourceInput { name: string; description: string; required?: boolean; secret?: boolean; default?: string }
  interface SourceEntry {
    name: string;
    description: string;
    tier: string;
    status?: string;
    tags: string[];
    tools?: string[];
    repository?: string;
    image?: string;
    npm?: string;
    pypi?: string;
    transport?: string;
    port?: number;
    env?: SourceInput[];
    url?: string;
    headers?: SourceInput[];
    oauth?: Record<string, unknown>;
    network?: 'none' | { hosts?: string[]; ports?: number[]; any_host?: true };
    read?: string[];
    write?: string[];
  }
  const source = parseYaml(sourceText) as { servers: SourceEntry[]; remotes: SourceEntry[] };

  it('converts every entry: 81 local servers (43 with npm/pypi packages) and 23 remotes', () => {
    const local = servers.filter((s) => !isRemoteServer(s)) as ImageMetadata[];
    expect(servers).toHaveLength(104);
    expect(local).toHaveLength(81);
    expect(local.filter((s) => s.packages !== undefined)).toHaveLength(43);
    expect(servers.filter(isRemoteServer)).toHaveLength(23);
    expect(local.every((s) => typeof s.image === 'string' || (s.packages?.length ?? 0) > 0)).toBe(true);
  });

  it('reads each entry back as catalog/servers.yaml describes it', () => {
    const inputs = (list: SourceInput[] | undefined) =>
      list?.map((v) => ({ name: v.name, description: v.description, required: v.required === true, ...(v.secret ? { secret: true } : {}), ...(v.default ? { default: v.default } : {}) }));
    for (const [i, entry] of [...source.servers, ...source.remotes].entries()) {
      const server = servers[i]!;
      const what = `${entry.name} (entry ${i})`;
      expect(server.name, what).toBe(`io.github.stacklok/${entry.name}`);
      expect(server.description, what).toBe(entry.description);
      expect([server.tier, server.status, server.tags, server.tools, server.repository_url], what).toStrictEqual([
        entry.tier,
        entry.status ?? 'Active',
        entry.tags,
        entry.tools,
        entry.repository,
      ]);
      if (isRemoteServer(server)) {
        expect([server.url, server.transport, server.headers, server.oauth_config], what).toStrictEqual([entry.url, entry.transport, inputs(entry.headers), entry.oauth]);
        continue;
      }
      const image = server as ImageMetadata;
      expect([image.image, image.transport, image.target_port, image.env_vars], what).toStrictEqual([entry.image, entry.transport ?? 'stdio', entry.port, inputs(entry.env)]);
      const wanted = [entry.npm && ['npm', entry.npm], entry.pypi && ['pypi', entry.pypi]].filter(Boolean);
      const got = (image.packages ?? []).filter((p) => p.registry_type !== 'oci').map((p) => [p.registry_type, `${p.identifier}${p.registry_type === 'npm' ? '@' : '=='}${p.version}`]);
      expect(got, what).toStrictEqual(wanted);
      const outbound = (image.permissions as { network?: { outbound?: Record<string, unknown> } } | undefined)?.network?.outbound;
      if (entry.network === 'none') expect(outbound, what).toStrictEqual({});
      else if (entry.network) expect(outbound, what).toStrictEqual({ ...(entry.network.any_host ? { insecure_allow_all: true } : {}), ...(entry.network.hosts ? { allow_host: entry.network.hosts } : {}), ...(entry.network.ports ? { allow_port: entry.network.ports } : {}) });
      else expect(outbound, what).toBeUndefined();
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

  it('an npm-only server has no image and runs with npx', () => {
    const brave = servers.find((s) => s.name === 'io.github.stacklok/brave-search') as ImageMetadata;
    expect(brave.image).toBeUndefined();
    expect(brave.packages).toStrictEqual([
      { registry_type: 'npm', identifier: '@brave/brave-search-mcp-server', version: '2.0.63', runtime_hint: 'npx', transport: 'stdio' },
    ]);
    expect(brave.env_vars).toStrictEqual([expect.objectContaining({ name: 'BRAVE_API_KEY', required: true, secret: true })]);
  });

  it('keeps fixed package arguments so the package can be started as a process', () => {
    const launchdarkly = servers.find((s) => s.name === 'io.github.stacklok/launchdarkly') as ImageMetadata;
    expect(launchdarkly.packages?.find((p) => p.registry_type === 'npm')?.args).toStrictEqual(['start']);
  });

  it('takes target_port from an HTTP package transport url', () => {
    const withPorts = servers.filter((s) => !isRemoteServer(s) && (s as ImageMetadata).target_port !== undefined);
    expect(withPorts).toHaveLength(18);
    for (const server of withPorts) expect(['sse', 'streamable-http']).toContain(server.transport);
  });
});

describe('registry entries as publishers write them', () => {
  /** Shaped like the official registry's entries: one server published as npm, OCI and an MCP bundle. */
  const multiPackage: ServerJson = {
    name: 'io.github.thv-fixtures/sheets-mcp',
    description: 'Spreadsheet rows as MCP tools',
    version: '2.4.0',
    repository: { url: 'https://github.com/thv-fixtures/sheets-mcp.git', source: 'github' },
    packages: [
      {
        registryType: 'npm',
        identifier: 'sheets-mcp',
        version: '2.4.0',
        transport: { type: 'stdio' },
        environmentVariables: [{ name: 'SHEETS_TOKEN', description: 'API token', isRequired: true, isSecret: true }],
      },
      { registryType: 'mcpb', identifier: 'https://github.com/thv-fixtures/sheets-mcp/releases/download/v2.4.0/sheets.mcpb', transport: { type: 'stdio' } },
      { registryType: 'oci', identifier: 'docker.io/thvfixtures/sheets-mcp:2.4.0', runtimeHint: 'docker', transport: { type: 'stdio' } },
    ],
  };

  it('an entry with npm, oci and mcpb packages is a server with the OCI image and both runnable packages', () => {
    const server = converted(serverJsonToCatalogServer(multiPackage)) as ImageMetadata;
    expect(server.name).toBe('io.github.thv-fixtures/sheets-mcp');
    expect(server.image).toBe('docker.io/thvfixtures/sheets-mcp:2.4.0');
    expect(server.repository_url).toBe('https://github.com/thv-fixtures/sheets-mcp.git');
    expect(server.packages?.map((p) => [p.registry_type, p.identifier, p.runtime_hint])).toStrictEqual([
      ['npm', 'sheets-mcp', 'npx'],
      ['oci', 'docker.io/thvfixtures/sheets-mcp:2.4.0', 'docker'],
    ]);
  });

  it('takes the env vars of the preferred (OCI) package, and those of the first runnable one without it', () => {
    const withOci = converted(serverJsonToCatalogServer(multiPackage)) as ImageMetadata;
    expect(withOci.env_vars).toBeUndefined();
    const npmOnly = { ...multiPackage, packages: multiPackage.packages!.filter((p) => p.registryType === 'npm') };
    expect((converted(serverJsonToCatalogServer(npmOnly)) as ImageMetadata).env_vars).toStrictEqual([
      { name: 'SHEETS_TOKEN', description: 'API token', required: true, secret: true },
    ]);
  });

  it('a pypi-only entry is a server without an image', () => {
    const entry: ServerJson = {
      name: 'io.github.thv-fixtures/clock-py',
      description: 'Time zone arithmetic',
      version: '1.0.6',
      packages: [{ registryType: 'pypi', identifier: 'thv-fixture-clock', version: '1.0.6', runtimeHint: 'python', transport: { type: 'stdio' } }],
    };
    const server = converted(serverJsonToCatalogServer(entry)) as ImageMetadata;
    expect(server.image).toBeUndefined();
    expect(server.transport).toBe('stdio');
    expect(server.packages).toStrictEqual([
      { registry_type: 'pypi', identifier: 'thv-fixture-clock', version: '1.0.6', runtime_hint: 'python', transport: 'stdio' },
    ]);
  });

  it('a nuget-only entry is skipped with a reason naming the server and the package type', () => {
    const entry: ServerJson = {
      name: 'io.github.thv-fixtures/clock-dotnet',
      description: 'Time zone arithmetic for .NET',
      version: '0.3.0',
      packages: [{ registryType: 'nuget', identifier: 'ThvFixtures.Clock', version: '0.3.0', transport: { type: 'stdio' } }],
    };
    const result = serverJsonToCatalogServer(entry);
    expect(result).toStrictEqual({ skipped: expect.stringContaining('io.github.thv-fixtures/clock-dotnet') });
    expect((result as { skipped: string }).skipped).toContain('nuget');
  });

  it('an npm-only entry without a runtime hint gets npx', () => {
    const entry: ServerJson = {
      name: 'io.example/npm-only',
      description: 'd',
      packages: [{ registryType: 'npm', identifier: '@example/server', version: '2.0.0', transport: { type: 'stdio' } }],
    };
    const server = converted(serverJsonToCatalogServer(entry)) as ImageMetadata;
    expect(server.image).toBeUndefined();
    expect(server.packages?.[0]?.runtime_hint).toBe('npx');
  });

  it('an mcpb-only entry is skipped with a reason naming it', () => {
    const entry: ServerJson = {
      name: 'io.example/bundle-only',
      description: 'd',
      packages: [{ registryType: 'mcpb', identifier: 'https://example.com/x.mcpb', transport: { type: 'stdio' } }],
    };
    const result = serverJsonToCatalogServer(entry);
    expect('skipped' in result && result.skipped).toMatch(/io\.example\/bundle-only.*mcpb/);
  });

  it('an entry with neither packages nor remotes, or without a name, is skipped rather than thrown', () => {
    expect(serverJsonToCatalogServer({ name: 'io.example/empty' })).toStrictEqual({
      skipped: expect.stringContaining('io.example/empty: no packages'),
    });
    expect(serverJsonToCatalogServer({} as ServerJson)).toStrictEqual({ skipped: 'server entry has no name' });
  });

  it('ignores publisher metadata of the wrong type instead of passing it on', () => {
    const entry: ServerJson = {
      name: 'io.example/odd',
      packages: [{ registryType: 'oci', identifier: 'example/odd:1', transport: { type: 'stdio' } }],
      _meta: {
        'io.modelcontextprotocol.registry/publisher-provided': {
          'io.github.stacklok': { 'example/odd:1': { tools: 'not-a-list', tier: 3, tags: ['ok'] } },
        },
      },
    };
    const server = converted(serverJsonToCatalogServer(entry));
    expect(server.tools).toBeUndefined();
    expect(server.tier).toBeUndefined();
    expect(server.tags).toStrictEqual(['ok']);
    expect(server.description).toBe('');
  });
});

describe('round trip', () => {
  const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
  const text = fc.string({ maxLength: 40 });
  const envVar = fc.record(
    {
      name: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/),
      description: text,
      required: fc.boolean(),
      secret: fc.constant(true),
      default: text,
    },
    { requiredKeys: ['name', 'required'] },
  );
  const transportAndPort = fc.oneof(
    fc.record({ transport: fc.constant('stdio') }),
    fc.record({ transport: fc.constantFrom('sse', 'streamable-http'), target_port: fc.integer({ min: 1, max: 65535 }) }),
  );
  const legacyImage = fc
    .tuple(
      fc.record(
        {
          title: text,
          description: text,
          tier: fc.constantFrom('Official', 'Community'),
          status: fc.constantFrom('Active', 'Deprecated'),
          tools: fc.array(word, { maxLength: 4 }),
          tags: fc.array(word, { maxLength: 4 }),
          metadata: fc.record({ stars: fc.nat(), last_updated: fc.constant('2025-10-18T02:26:51Z') }),
          repository_url: fc.oneof(word.map((w) => `https://github.com/example/${w}`), word.map((w) => `https://gitlab.com/x/${w}`)),
          image: word.map((w) => `ghcr.io/example/${w}:1.0.0`),
          permissions: fc.record({ network: fc.record({ outbound: fc.record({ allow_host: fc.array(word, { maxLength: 2 }) }) }) }),
          env_vars: fc.array(envVar, { minLength: 1, maxLength: 3 }),
          args: fc.array(word, { maxLength: 3 }),
          provenance: fc.record({ sigstore_url: word }),
          docker_tags: fc.array(word, { maxLength: 3 }),
          proxy_port: fc.integer({ min: 1, max: 65535 }),
          overview: text,
          tool_definitions: fc.array(fc.record({ annotations: fc.constant({}), name: word }), { maxLength: 2 }),
          custom_metadata: fc.dictionary(word, fc.oneof(word, fc.integer())),
        },
        { requiredKeys: ['description', 'image'] },
      ),
      transportAndPort,
    )
    // Through JSON, as legacy entries arrive (fast-check builds null-prototype objects).
    .map(([fields, transport]) => JSON.parse(JSON.stringify({ ...fields, ...transport })) as ImageMetadata);

  it('legacy image → server.json → ImageMetadata keeps every field', () => {
    fc.assert(
      fc.property(word, legacyImage, (shortName, image) => {
        const back = converted(serverJsonToCatalogServer(legacyImageToServerJson(shortName, image)));
        expect(back).toStrictEqual({ ...image, name: `io.github.stacklok/${shortName}` });
      }),
      { numRuns: 200 },
    );
  });

  it('legacy remote → server.json → RemoteServerMetadata keeps every field', () => {
    const legacyRemote = fc.record(
      {
        description: text,
        tier: fc.constantFrom('Official', 'Community'),
        transport: fc.constantFrom('sse', 'streamable-http'),
        tools: fc.array(word, { maxLength: 3 }),
        url: word.map((w) => `https://${w}.example.com/mcp`),
        headers: fc.array(envVar, { minLength: 1, maxLength: 2 }),
        env_vars: fc.array(envVar, { maxLength: 2 }),
        oauth_config: fc.record({ issuer: fc.constant('https://auth.example.com'), scopes: fc.array(word) }),
      },
      { requiredKeys: ['description', 'url', 'transport'] },
    ).map((remote) => JSON.parse(JSON.stringify(remote)) as RemoteServerMetadata);
    fc.assert(
      fc.property(word, legacyRemote, (shortName, remote) => {
        const back = converted(serverJsonToCatalogServer(legacyRemoteToServerJson(shortName, remote)));
        expect(back).toStrictEqual({ ...remote, name: `io.github.stacklok/${shortName}` });
      }),
      { numRuns: 200 },
    );
  });
});
