import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginAuthorization } from '../../src/auth/browser-flow.js';
import { discoverIssuer } from '../../src/auth/oidc-discovery.js';
import { startTestIdp, type TestIdp } from '../fixtures/idp.js';
import { followLogin } from '../fixtures/test-browser.mjs';

const RESOURCE = 'https://mcp.example.com/';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startTestIdp({ registration: true, resources: { [RESOURCE]: { scope: 'mcp:tools' } }, accessTokenTtl: 120 });
});
afterAll(() => idp.close());

describe('the test IdP fixture', () => {
  it('registers a public native client dynamically and issues it a token for a resource (RFC 7591, RFC 8707)', async () => {
    const metadata = await discoverIssuer(idp.issuer);
    expect(metadata.registration_endpoint).toBe(`${idp.issuer}/reg`);
    const registered = await fetch(metadata.registration_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://localhost/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }),
    });
    expect(registered.status).toBe(201);
    const client = (await registered.json()) as { client_id: string };

    const pending = await beginAuthorization({
      issuer: metadata,
      clientId: client.client_id,
      scopes: ['openid', 'offline_access', 'mcp:tools'],
      resource: RESOURCE,
      callbackPort: 0,
      timeoutMs: 10_000,
    });
    await followLogin(pending.authorizationUrl);
    const tokens = await pending.result;
    expect(tokens.refreshToken).toBeTruthy();
    const stored = (await idp.provider.AccessToken.find(tokens.accessToken)) as unknown as { aud?: string; clientId: string; scope?: string };
    expect(stored.aud).toBe(RESOURCE);
    expect(stored.clientId).toBe(client.client_id);
    expect(stored.scope).toBe('mcp:tools');
    expect(tokens.expiresAt! - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it('forgets every grant on request, so its tokens stop working', async () => {
    const pending = await beginAuthorization({
      issuer: await discoverIssuer(idp.issuer),
      clientId: idp.clientId,
      scopes: ['openid', 'offline_access'],
      callbackPort: 0,
      timeoutMs: 10_000,
    });
    await followLogin(pending.authorizationUrl);
    const tokens = await pending.result;
    expect(await idp.findAccessToken(tokens.accessToken)).toBeDefined();
    await idp.revokeAllGrants();
    expect(await idp.findAccessToken(tokens.accessToken)).toBeUndefined();
  });
});
