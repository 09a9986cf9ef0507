import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginAuthorization, runBrowserFlow, type AuthorizationRequest } from '../../src/auth/browser-flow.js';
import { refreshTokens } from '../../src/auth/oauth-client.js';
import { discoverIssuer } from '../../src/auth/oidc-discovery.js';
import { startTestIdp, type TestIdp } from '../fixtures/idp.js';
import { followLogin } from '../fixtures/test-browser.mjs';
import { isBindable as portIsFree } from '../fixtures/ports.js';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startTestIdp();
});
afterAll(() => idp.close());

async function request(overrides: Partial<AuthorizationRequest> = {}): Promise<AuthorizationRequest> {
  return {
    issuer: await discoverIssuer(idp.issuer),
    clientId: idp.clientId,
    scopes: ['openid', 'offline_access'],
    callbackPort: 0,
    timeoutMs: 10_000,
    ...overrides,
  };
}

describe('the browser flow', () => {
  it('logs in with PKCE S256, a 256-bit state and the audience, then refreshes with rotation', async () => {
    const printed: string[] = [];
    const opened: string[] = [];
    const tokens = await runBrowserFlow(await request({ audience: 'https://registry.example' }), {
      err: (text) => printed.push(text),
      opener: async (url) => {
        opened.push(url);
        await followLogin(url);
      },
    });
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.refreshToken).toBeTruthy();
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());

    const url = new URL(opened[0]!);
    expect(printed.join('')).toContain(opened[0]);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(url.searchParams.get('state')!, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/callback$/);
    expect(url.searchParams.get('audience')).toBe('https://registry.example');
    expect(idp.authorizationRequests.at(-1)?.audience).toBe('https://registry.example');
    expect(await idp.findAccessToken(tokens.accessToken)).toMatchObject({ clientId: idp.clientId });

    const client = { issuer: await discoverIssuer(idp.issuer), clientId: idp.clientId };
    const refreshed = await refreshTokens(client, tokens.refreshToken!);
    expect(refreshed.refreshToken).toBeTruthy();
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    await expect(refreshTokens(client, tokens.refreshToken!)).rejects.toMatchObject({ oauthError: 'invalid_grant' });
  });

  it('binds the callback to 127.0.0.1 only and frees the port when the flow times out', async () => {
    const pending = await beginAuthorization(await request({ timeoutMs: 200 }));
    const port = Number(new URL(pending.redirectUri).port);
    expect(await portIsFree(port)).toBe(false);
    await expect(pending.result).rejects.toThrow(/did not complete within 200ms/);
    expect(await portIsFree(port)).toBe(true);
  });

  it('frees the port when the flow is cancelled', async () => {
    const pending = await beginAuthorization(await request());
    const port = Number(new URL(pending.redirectUri).port);
    pending.cancel();
    await expect(pending.result).rejects.toThrow(/cancelled/);
    expect(await portIsFree(port)).toBe(true);
  });

  it('refuses a callback whose state does not match, and frees the port', async () => {
    const pending = await beginAuthorization(await request());
    await followLogin(pending.authorizationUrl, { mode: 'tamper-state' });
    await expect(pending.result).rejects.toThrow(/state does not match/);
    expect(await portIsFree(Number(new URL(pending.redirectUri).port))).toBe(true);
  });

  it('fails with the IdP error when the user denies access', async () => {
    const denying = await startTestIdp({ interaction: 'deny' });
    try {
      const pending = await beginAuthorization({ ...(await request()), issuer: await discoverIssuer(denying.issuer) });
      await followLogin(pending.authorizationUrl);
      await expect(pending.result).rejects.toThrow(/refused the login \(access_denied/);
    } finally {
      await denying.close();
    }
  });

  it('works for a confidential client too, authenticating it at the token endpoint', async () => {
    const confidential = await startTestIdp({
      clients: [
        {
          client_id: 'remote-app',
          client_secret: 'remote-app-secret',
          token_endpoint_auth_method: 'client_secret_basic',
          application_type: 'native',
          redirect_uris: ['http://localhost/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
      ],
    });
    try {
      const issuer = await discoverIssuer(confidential.issuer);
      const base = { ...(await request()), issuer, clientId: 'remote-app' };
      const refused = await beginAuthorization(base);
      await followLogin(refused.authorizationUrl);
      await expect(refused.result).rejects.toThrow(/invalid_client/);

      const pending = await beginAuthorization({ ...base, clientSecret: 'remote-app-secret' });
      await followLogin(pending.authorizationUrl);
      const tokens = await pending.result;
      const refreshed = await refreshTokens({ issuer, clientId: 'remote-app', clientSecret: 'remote-app-secret' }, tokens.refreshToken!);
      expect(refreshed.accessToken).toBeTruthy();
    } finally {
      await confidential.close();
    }
  });

  it('names the port and the flag when the callback port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(beginAuthorization(await request({ callbackPort: port, portHint: '--callback-port' }))).rejects.toMatchObject({
        code: 'port_in_use',
        message: expect.stringContaining(String(port)),
        hint: expect.stringContaining('--callback-port'),
      });
    } finally {
      blocker.close();
    }
  });
});
