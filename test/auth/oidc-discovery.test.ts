import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkIssuerUrl, discoverIssuer } from '../../src/auth/oidc-discovery.js';
import { validateRegistryAuthSettings } from '../../src/auth/registry-settings.js';
import { startTestIdp } from '../fixtures/idp.js';

/** Serves discovery documents by path; `issuerFor(base)` decides what `issuer` they claim. */
async function startMetadataServer(routes: (base: string) => Record<string, unknown>): Promise<{ base: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  let base = '';
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const doc = routes(base)[req.url ?? ''];
    if (!doc) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, seen, server };
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const endpoints = (base: string) => ({ authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token` });

describe('OIDC discovery', () => {
  it('accepts the real IdP, whose document names exactly the configured issuer', async () => {
    const idp = await startTestIdp();
    try {
      const metadata = await discoverIssuer(idp.issuer);
      expect(metadata.issuer).toBe(idp.issuer);
      expect(metadata.revocation_endpoint).toBeTruthy();
    } finally {
      await idp.close();
    }
  });

  it('refuses a document that names another issuer, as a possible hijack', async () => {
    const m = await startMetadataServer((base) => ({
      '/.well-known/openid-configuration': { issuer: 'https://evil.example', ...endpoints(base) },
    }));
    servers.push(m.server);
    const failure = discoverIssuer(m.base);
    await expect(failure).rejects.toMatchObject({ code: 'bad_request' });
    await expect(failure).rejects.toThrow(/names issuer "https:\/\/evil\.example", not the configured .*possible hijack/);
  });

  it('compares the issuer exactly: a trailing slash is a different issuer', async () => {
    const m = await startMetadataServer((base) => ({ '/.well-known/openid-configuration': { issuer: `${base}/`, ...endpoints(base) } }));
    servers.push(m.server);
    await expect(discoverIssuer(m.base)).rejects.toThrow(/possible hijack/);
  });

  it('falls back to RFC 8414 metadata, inserting the well-known segment before the path', async () => {
    const m = await startMetadataServer((base) => ({
      '/.well-known/oauth-authorization-server/tenant/a': { issuer: `${base}/tenant/a`, ...endpoints(base) },
    }));
    servers.push(m.server);
    const metadata = await discoverIssuer(`${m.base}/tenant/a`);
    expect(metadata.token_endpoint).toBe(`${m.base}/token`);
    expect(m.seen).toEqual(['/tenant/a/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/tenant/a']);
  });

  it('refuses an issuer that publishes no metadata, naming both places it looked', async () => {
    const m = await startMetadataServer(() => ({}));
    servers.push(m.server);
    await expect(discoverIssuer(m.base)).rejects.toThrow(/publishes no discovery document.*openid-configuration.*404.*oauth-authorization-server.*404/);
  });

  it('an issuer that cannot be reached is an outage (upstream_unavailable, exit 5), not an auth failure', async () => {
    const { freePort } = await import('../fixtures/ports.js');
    const issuer = `http://127.0.0.1:${await freePort()}`;
    await expect(discoverIssuer(issuer)).rejects.toMatchObject({ code: 'upstream_unavailable', message: expect.stringContaining('could not reach issuer') });
  });

  it('refuses an IdP that cannot do PKCE S256', async () => {
    const m = await startMetadataServer((base) => ({
      '/.well-known/openid-configuration': { issuer: base, ...endpoints(base), code_challenge_methods_supported: ['plain'] },
    }));
    servers.push(m.server);
    await expect(discoverIssuer(m.base)).rejects.toThrow(/S256/);
  });

  it('accepts plain http only on loopback', () => {
    expect(checkIssuerUrl('http://localhost:8080').hostname).toBe('localhost');
    expect(checkIssuerUrl('http://127.0.0.1:9').hostname).toBe('127.0.0.1');
    expect(checkIssuerUrl('http://[::1]:9').hostname).toBe('[::1]');
    expect(checkIssuerUrl('https://idp.example.com').protocol).toBe('https:');
    expect(() => checkIssuerUrl('http://idp.example.com')).toThrow(/plain http, which is refused outside localhost/);
    expect(() => checkIssuerUrl('ftp://idp.example.com')).toThrow(/must be an https:\/\/ URL/);
    expect(() => checkIssuerUrl('not a url')).toThrow(/not a valid URL/);
  });

  it('never contacts a non-loopback http issuer', async () => {
    let fetched = false;
    const spy = (async () => {
      fetched = true;
      return new Response('{}');
    }) as typeof fetch;
    await expect(discoverIssuer('http://idp.example.com', { fetch: spy })).rejects.toMatchObject({ code: 'bad_request' });
    expect(fetched).toBe(false);
  });
});

describe('validating registry OAuth settings', () => {
  it('wants the issuer and the client id together', async () => {
    await expect(validateRegistryAuthSettings({ issuer: 'https://idp.example.com' })).rejects.toThrow(/issuer and client id must be given together/);
    await expect(validateRegistryAuthSettings({ clientId: 'x' })).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('stores default scopes, always with offline_access', async () => {
    const idp = await startTestIdp();
    try {
      const block = await validateRegistryAuthSettings({ issuer: idp.issuer, clientId: 'c', scopes: ['registry:read'], audience: 'api' });
      expect(block).toEqual({ type: 'oauth', oauth: { issuer: idp.issuer, client_id: 'c', scopes: ['registry:read', 'offline_access'], audience: 'api' } });
      const defaults = await validateRegistryAuthSettings({ issuer: idp.issuer, clientId: 'c' });
      expect(defaults.oauth?.scopes).toEqual(['openid', 'offline_access']);
    } finally {
      await idp.close();
    }
  });
});
