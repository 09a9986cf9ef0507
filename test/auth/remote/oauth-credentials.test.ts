import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../src/core/clock.js';
import { ManualClock } from '../../fixtures/manual-clock.js';
import { createLogger } from '../../../src/core/log.js';
import { createOAuthCredentials, type OAuthCredentials, type OAuthSettings } from '../../../src/auth/remote/index.js';
import { parseRemoteAuthState } from '../../../src/auth/remote/state.js';
import { startTestIdp, type TestIdp } from '../../fixtures/idp.js';
import { startTokenFaultProxy, type TokenFaultProxy } from '../../fixtures/token-fault-proxy.js';
import { startTokenCheckingMcp, type TokenCheckingMcp } from '../../fixtures/token-checking-mcp.js';
import { followLogin } from '../../fixtures/test-browser.mjs';
import { AuthRetryingError } from '../../../src/transport/upstream-credentials.js';
import { freePort } from '../../fixtures/ports.js';
import { waitFor } from '../../workloads/helpers.js';
import { LOGIN_REQUIRED_CONTEXT } from '../../../src/workloads/types.js';
import type { ClientMetadata } from 'oidc-provider';

let idp: TestIdp;
let as: TokenFaultProxy;
let mcp: TokenCheckingMcp;
let stored: string | undefined;
let opened: string[];
let logs: string[];
let statuses: Array<[string, string]>;
const open: OAuthCredentials[] = [];

async function setUp(discovery: 'header' | 'well-known', clients: ClientMetadata[] = []): Promise<void> {
  mcp = await startTokenCheckingMcp({ isValid: async (t) => Boolean(await idp.findAccessToken(t)), discovery, scopesSupported: ['mcp:tools'] });
  idp = await startTestIdp({ registration: true, accessTokenTtl: 60, resources: { [mcp.url]: { scope: 'mcp:tools' } }, clients });
  as = await startTokenFaultProxy(idp.issuer);
  mcp.authorizationServer = as.issuer;
}

beforeEach(() => {
  stored = undefined;
  opened = [];
  logs = [];
  statuses = [];
});

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  await mcp?.close();
  await as?.close();
  await idp?.close();
});

/** Started credentials whose session is established (login or resume). */
async function credentials(callbackPort: number, extra: { skipBrowser?: boolean; clock?: Clock; settings?: OAuthSettings } = {}): Promise<OAuthCredentials> {
  const c = unstarted(callbackPort, extra);
  c.start();
  await c.ready;
  return c;
}

function unstarted(callbackPort: number, extra: { skipBrowser?: boolean; clock?: Clock; settings?: OAuthSettings } = {}): OAuthCredentials {
  const c = createOAuthCredentials({
    workload: 'remote1',
    serverUrl: mcp.url,
    settings: { callbackPort, timeoutMs: 20_000, ...extra.settings },
    stored,
    save: async (raw) => void (stored = raw),
    ...(extra.skipBrowser
      ? {}
      : {
          opener: async (url: string) => {
            opened.push(url);
            void followLogin(url);
          },
        }),
    onStatus: (status, context) => void statuses.push([status, context]),
    clock: extra.clock ?? systemClock,
    log: createLogger({ level: 'debug', format: 'json', write: (l) => void logs.push(l) }),
  });
  open.push(c);
  return c;
}

async function callMcp(c: OAuthCredentials): Promise<number> {
  const res = await fetch(mcp.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await c.headers()) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('remote OAuth (MCP authorization spec)', () => {
  it('discovers the issuer from the 401 challenge, registers a client, logs in with PKCE and the resource, and the token is accepted', async () => {
    await setUp('header');
    const c = await credentials(await freePort());
    expect(opened).toHaveLength(1);
    const authUrl = new URL(opened[0]!);
    expect(authUrl.origin).toBe(as.issuer);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('resource')).toBe(mcp.url);
    expect(authUrl.searchParams.get('client_id')).not.toBe(idp.clientId);
    expect(await callMcp(c)).toBe(200);
    const state = parseRemoteAuthState(stored)!;
    expect(state).toMatchObject({ dynamic_client: true, issuer: as.issuer, resource: mcp.url });
    expect(state.refresh_token).toBeTruthy();
  });

  it('a restart with the stored state needs no new login, even after the access token is gone', async () => {
    await setUp('header');
    const port = await freePort();
    await credentials(port);
    // Simulate an expired access token: the next start must refresh, not log in.
    const state = parseRemoteAuthState(stored)!;
    stored = JSON.stringify({ ...state, expires_at: 1 });
    const refreshesBefore = as.counts.tokenRequests;
    const again = await credentials(port);
    expect(opened).toHaveLength(1);
    expect(as.counts.tokenRequests).toBe(refreshesBefore + 1);
    expect(await callMcp(again)).toBe(200);
    expect(parseRemoteAuthState(stored)!.refresh_token).not.toBe(state.refresh_token);
  });

  it('finds the protected-resource metadata at the well-known location when the challenge names none', async () => {
    await setUp('well-known');
    const c = await credentials(await freePort());
    expect(await callMcp(c)).toBe(200);
  });

  it('a refused stored session (invalid_grant) leads to a new login at the next start', async () => {
    await setUp('header');
    const port = await freePort();
    await credentials(port);
    await idp.revokeAllGrants();
    const state = parseRemoteAuthState(stored)!;
    stored = JSON.stringify({ ...state, expires_at: 1 });
    const c = await credentials(port);
    expect(opened).toHaveLength(2);
    expect(await callMcp(c)).toBe(200);
  });

  it('logs in in the background: unauthenticated with the URL (no verifier), 503 meanwhile, then running once the callback arrives', async () => {
    await setUp('header');
    const c = unstarted(await freePort(), { skipBrowser: true });
    c.start();
    const context = await waitFor('the login-required status', () => statuses.find(([s, ctx]) => s === 'unauthenticated' && ctx.startsWith(LOGIN_REQUIRED_CONTEXT))?.[1]);
    const url = new URL(context.slice(LOGIN_REQUIRED_CONTEXT.length));
    expect(url.origin).toBe(as.issuer);
    expect(url.searchParams.get('code_challenge')).toBeTruthy();
    expect([...url.searchParams.keys()]).not.toContain('code_verifier');
    const waiting = await c.headers().catch((e: unknown) => e);
    expect(waiting).toBeInstanceOf(AuthRetryingError);
    expect((waiting as AuthRetryingError).message).not.toContain(url.searchParams.get('state')!);
    expect(opened).toEqual([]);

    expect(await followLogin(url.href)).toBe(200);
    await c.ready;
    expect(statuses.at(-1)).toEqual(['running', '']);
    expect(await callMcp(c)).toBe(200);
  });

  it('close() during a pending login cancels it, frees the callback port and reports nothing more', async () => {
    await setUp('header');
    const port = await freePort();
    const c = unstarted(port, { skipBrowser: true });
    c.start();
    await waitFor('the login-required status', () => statuses.some(([s]) => s === 'unauthenticated'));
    const before = statuses.length;
    await c.close();
    await expect(c.ready).rejects.toThrow(/stopping/);
    expect(statuses).toHaveLength(before);
    // The same port is free for the next start.
    const again = unstarted(port, { skipBrowser: true });
    again.start();
    await waitFor('a second login', () => statuses.length > before);
    expect(statuses.at(-1)![1]).toContain(LOGIN_REQUIRED_CONTEXT);
  });

  it('a confidential client (given id and secret) authenticates on the code exchange and on refresh', async () => {
    await setUp('header', [
      {
        client_id: 'conf-client',
        client_secret: 'conf-secret-value',
        application_type: 'native',
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ]);
    const c = await credentials(await freePort(), { settings: { clientId: 'conf-client', clientSecret: 'conf-secret-value' } });
    expect(idp.counts.authorizationCodeGrants).toBe(1);
    expect(new URL(opened[0]!).searchParams.get('client_id')).toBe('conf-client');
    expect(await callMcp(c)).toBe(200);
    expect(await c.refreshAfterUnauthorized!()).toBe(true);
    expect(idp.counts.refreshGrants).toBe(1);
    expect(logs.join('')).not.toContain('conf-secret-value');
  });

  it('no token appears in the log', async () => {
    await setUp('header');
    await credentials(await freePort());
    const state = parseRemoteAuthState(stored)!;
    const text = logs.join('');
    expect(text).not.toContain(state.access_token!);
    expect(text).not.toContain(state.refresh_token!);
  });

  it.each([
    ['html403', 'running', /HTML page/],
    ['429', 'running', /HTTP 429/],
    ['500', 'running', /HTTP 500/],
    ['reset', 'running', /ECONNRESET|UND_ERR_SOCKET|closed/],
    ['invalid_grant', 'unauthenticated', /invalid_grant/],
  ] as const)('a token endpoint answering %s is classified from the real response', async (fault, status, reason) => {
    await setUp('header');
    const clock = new ManualClock();
    const c = await credentials(await freePort(), { clock });
    expect(c.monitor!.state.status).toBe('running');
    as.fault = fault;
    const refreshed = await c.refreshAfterUnauthorized!().catch((e: unknown) => e);
    expect(as.counts.faulted).toBe(1);
    expect(c.monitor!.state.status).toBe(status);
    if (status === 'running') {
      // A retry is scheduled: the proxy answers 503 + Retry-After, not a 401.
      expect(refreshed).toBeInstanceOf(AuthRetryingError);
      // Transient: a short retry is scheduled (the manual clock holds it) and the reason is logged.
      await clock.untilSleeping();
      expect(clock.pending().some((ms) => ms <= 15_000)).toBe(true);
      expect(logs.join('')).toMatch(reason);
    } else {
      expect(refreshed).toBe(false);
      expect(c.monitor!.state.context).toMatch(reason);
      await expect(c.headers()).rejects.toMatchObject({ code: 'auth_failed' });
    }
  });
});
