import { describe, expect, it } from 'vitest';
import { basename, dirname } from 'node:path';
import { resolveSource } from '../../src/workloads/sources.js';
import { RegistryAuthRequiredError, notFound } from '../../src/core/errors.js';
import type { CatalogServer } from '../../src/registry/types.js';

// A PATH that has `node` (as npx and uvx stand-ins are not needed for these cases) plus this folder.
const env = { PATH: dirname(process.execPath) };

const catalog: CatalogServer[] = [
  { name: 'io.example/npm-server', description: 'npm', env_vars: [{ name: 'API_KEY', required: true, secret: true, description: 'the key' }, { name: 'REGION', required: true, default: 'eu' }], packages: [{ registry_type: 'oci', identifier: 'ghcr.io/x/npm-server:1' }, { registry_type: 'npm', identifier: '@example/npm-server', version: '1.2.3' }], args: ['--stdio'] },
  { name: 'io.example/remote', description: 'remote', url: 'https://mcp.example.com/v1/mcp', transport: 'streamable-http', headers: [{ name: 'X-Region', default: 'eu' }, { name: 'X-Key', secret: true, default: 'nope' }] },
  { name: 'io.example/oci-only', description: 'oci', image: 'ghcr.io/example/oci-only:2.0' },
];
const getServer = async (name: string) => {
  const found = catalog.find((s) => s.name === name || s.name.endsWith(`/${name}`));
  if (!found) throw notFound(`server \`${name}\` was not found in the registry`);
  return found;
};

describe('what thv run understands', () => {
  it('-- <command> runs the command as given and names the workload after its script', async () => {
    const s = await resolveSource(undefined, ['node', './servers/weather-server.mjs', '--verbose'], { env, getServer });
    expect(s).toMatchObject({ command: 'node', args: ['./servers/weather-server.mjs', '--verbose'], transport: 'stdio', suggestedName: 'weather-server' });
    expect(s.source.kind).toBe('command');
  });

  it('npx://pkg@ver runs npx -y pkg@ver and names the workload after the package', async () => {
    const s = await resolveSource('npx://@scope/some-server@2.0.1', ['--flag'], { env: process.env, getServer });
    expect(s.command).toMatch(/npx$/);
    expect(s.args).toEqual(['-y', '@scope/some-server@2.0.1', '--flag']);
    expect(s.suggestedName).toBe('some-server');
  });

  it('uvx://pkg@ver runs uvx pkg@ver, and a missing runner is a clear error (raised unless a container builds the image)', async () => {
    const s = await resolveSource('uvx://mcp-server-fetch@1.0', [], { env: { PATH: '' }, getServer });
    expect(s.command).toBeUndefined();
    expect(s.buildRef).toBe('uvx://mcp-server-fetch@1.0');
    expect(s.runnerMissing).toMatchObject({
      code: 'runtime_unavailable',
      message: 'uvx was not found on PATH',
      hint: expect.stringContaining('Install uv'),
    });
  });

  it('a registry npm package becomes npx with the registry arguments first', async () => {
    const s = await resolveSource('npm-server', ['--extra'], { env: process.env, getServer });
    expect(s.command).toMatch(/npx$/);
    expect(s.args).toEqual(['-y', '@example/npm-server@1.2.3', '--stdio', '--extra']);
    expect(s.source).toMatchObject({ kind: 'registry', registry_name: 'io.example/npm-server' });
    expect(s.suggestedName).toBe('npm-server');
    expect(s.requiredEnv).toEqual([{ name: 'API_KEY', secret: true, description: 'the key' }]);
  });

  it('a registry remote becomes a proxy with its non-secret header defaults', async () => {
    const s = await resolveSource('remote', [], { env, getServer });
    expect(s).toMatchObject({ remoteUrl: 'https://mcp.example.com/v1/mcp', transport: 'streamable-http', headers: { 'X-Region': 'eu' }, suggestedName: 'remote' });
  });

  it('an OCI-only registry entry is its image (for the container runtime); an image reference not in the registry too', async () => {
    const s = await resolveSource('oci-only', [], { env, getServer });
    expect(s.image).toBe('ghcr.io/example/oci-only:2.0');
    expect(s.command).toBeUndefined();
    const ref = await resolveSource('localhost/some-server:1.0', [], { env, getServer: async () => Promise.reject(notFound('no such server')) });
    expect(ref).toMatchObject({ image: 'localhost/some-server:1.0', source: { kind: 'image' }, suggestedName: 'some-server' });
    await expect(resolveSource('plain-name', [], { env, getServer: async () => Promise.reject(notFound('no such server')) })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('an auth failure during the lookup stays an auth failure', async () => {
    const denied = async () => Promise.reject(new RegistryAuthRequiredError());
    await expect(resolveSource('anything', [], { env, getServer: denied })).rejects.toBeInstanceOf(RegistryAuthRequiredError);
  });

  it('an http(s) URL is a remote; a path ending in /sse means the SSE transport', async () => {
    expect((await resolveSource('https://api.example.com/mcp', [], { env, getServer })).transport).toBe('streamable-http');
    expect((await resolveSource('https://api.example.com/sse', [], { env, getServer })).transport).toBe('sse');
    expect((await resolveSource('https://api.example.com/mcp', [], { env, getServer })).suggestedName).toBe('api-example-com');
  });
});

describe('a local command', () => {
  it('that is not on PATH fails before anything is written', async () => {
    await expect(resolveSource(undefined, ['no-such-program-xyz', '--flag'], { env, getServer })).rejects.toMatchObject({
      code: 'runtime_unavailable',
      message: 'command "no-such-program-xyz" was not found on PATH',
    });
  });

  it('given by a path that does not exist (absolute or relative to cwd) is refused', async () => {
    await expect(resolveSource(undefined, ['/nonexistent/cmd'], { env, getServer })).rejects.toMatchObject({ code: 'runtime_unavailable', message: expect.stringContaining('/nonexistent/cmd') });
    await expect(resolveSource(undefined, ['./bin/thv.js'], { env, getServer, cwd: '/' })).rejects.toMatchObject({ code: 'runtime_unavailable' });
    const found = await resolveSource(undefined, [`./${basename(process.execPath)}`], { env, getServer, cwd: dirname(process.execPath) });
    expect(found.source.kind).toBe('command');
  });

  it('accepts every --transport: a local server always speaks stdio, the flag only picks the printed endpoint', async () => {
    for (const transport of ['stdio', 'sse', 'streamable-http'] as const) {
      expect((await resolveSource(undefined, ['node', 'server.js'], { env, getServer }, transport)).transport).toBe('stdio');
      expect((await resolveSource('io.example/npm-server', [], { env: process.env, getServer }, transport)).transport).toBe('stdio');
    }
  });
});
