import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalResource, discoverRemoteAuth, parseBearerChallenge, wellKnownMetadataUrls } from '../../../src/auth/remote/discovery.js';

let server: Server | undefined;

afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

describe('RFC 9728 discovery helpers', () => {
  it('reads resource_metadata, scope and error from a Bearer challenge, quoted or not', () => {
    expect(parseBearerChallenge('Bearer error="invalid_token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="a b"')).toEqual({
      error: 'invalid_token',
      resourceMetadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
      scopes: ['a', 'b'],
    });
    expect(parseBearerChallenge('Basic realm="x", Bearer resource_metadata=https://x.example/prm')).toEqual({ resourceMetadata: 'https://x.example/prm' });
    expect(parseBearerChallenge('Basic realm="x"')).toEqual({});
  });

  it('tries the path-specific well-known URL first, then the root', () => {
    expect(wellKnownMetadataUrls('https://mcp.example.com/v1/mcp/')).toEqual([
      'https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp',
      'https://mcp.example.com/.well-known/oauth-protected-resource',
    ]);
    expect(wellKnownMetadataUrls('https://mcp.example.com')).toEqual(['https://mcp.example.com/.well-known/oauth-protected-resource']);
  });

  it('the canonical resource drops query, fragment and trailing slash', () => {
    expect(canonicalResource('https://MCP.example.com/mcp/?x=1#y')).toBe('https://mcp.example.com/mcp');
  });

  it('refuses protected-resource metadata that describes another resource', async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/.well-known/oauth-protected-resource')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resource: 'https://evil.example/mcp', authorization_servers: ['https://evil.example'] }));
        return;
      }
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    await expect(discoverRemoteAuth(url)).rejects.toMatchObject({ code: 'auth_failed', message: expect.stringContaining('another resource') });
  });

  it('with an explicit issuer, asks for openid and offline_access as far as the issuer supports them', async () => {
    let scopesSupported: string[] | undefined = ['openid', 'profile'];
    server = createServer((req, res) => {
      const issuer = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
      if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            issuer,
            authorization_endpoint: `${issuer}/auth`,
            token_endpoint: `${issuer}/token`,
            code_challenge_methods_supported: ['S256'],
            ...(scopesSupported ? { scopes_supported: scopesSupported } : {}),
          }),
        );
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await discoverRemoteAuth('https://mcp.example.com/mcp', { issuer })).scopes).toEqual(['openid']);
    scopesSupported = undefined;
    expect((await discoverRemoteAuth('https://mcp.example.com/mcp', { issuer })).scopes).toEqual(['openid', 'offline_access']);
  });

  it('a server that names no authorization server is an error with a hint', async () => {
    server = createServer((_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer' }).end());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    await expect(discoverRemoteAuth(url)).rejects.toMatchObject({ code: 'auth_failed', hint: expect.stringContaining('--remote-auth-issuer') });
  });
});
