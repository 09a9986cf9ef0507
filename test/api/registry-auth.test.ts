import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestIdp, TEST_CLIENT_ID, type TestIdp } from '../fixtures/idp.js';
import { startProtectedRegistry, type ProtectedRegistry } from '../fixtures/protected-registry.js';
import { followLogin } from '../fixtures/test-browser.mjs';
import { TEST_BROWSER, makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { startTestApi, type HttpResult, type TestApi } from './helpers.js';
import { freePort, isBindable, isConnectRefused } from '../fixtures/ports.js';

const R = '/api/v1beta/registry';
const SECRETS_PASSWORD = 'correct horse battery staple';

interface LoginState {
  status: string;
  authorization_url?: string;
  reason?: string;
  auth_status: string;
  auth_type: string;
}

interface Setup {
  idp: TestIdp;
  registry: ProtectedRegistry;
  home: TempHome;
  api: TestApi;
  callbackPort: number;
  marker: string;
  responses: HttpResult[];
  send(path: string, options?: Parameters<TestApi['send']>[1]): Promise<HttpResult>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A protected registry, its IdP and the API, configured through `PUT /registry/default` with `auth`. */
async function setup(browserEnv: Record<string, string> = {}): Promise<Setup> {
  const idp = await startTestIdp();
  cleanups.push(() => idp.close());
  const registry = await startProtectedRegistry(idp);
  cleanups.push(() => registry.close());
  const home = await makeTempHome();
  cleanups.push(() => home.cleanup());
  const marker = join(home.root, 'browser-marker');
  const api = await startTestApi({
    home,
    env: {
      TOOLHIVE_SECRETS_PASSWORD: SECRETS_PASSWORD,
      BROWSER: TEST_BROWSER,
      TEST_BROWSER_MARKER: marker,
      TEST_BROWSER_LOG: join(home.root, 'browser-log'),
      ...browserEnv,
    },
  });
  cleanups.push(() => api.close());
  const callbackPort = await freePort();
  const responses: HttpResult[] = [];
  const send = async (path: string, options?: Parameters<TestApi['send']>[1]) => {
    const res = await api.send(path, options);
    responses.push(res);
    return res;
  };
  const put = await send(`${R}/default`, {
    method: 'PUT',
    body: {
      api_url: registry.url,
      allow_private_ip: true,
      auth: { issuer: idp.issuer, client_id: TEST_CLIENT_ID, audience: 'registry', scopes: ['openid'], callback_port: callbackPort },
    },
  });
  expect(put.status, put.text).toBe(200);
  return { idp, registry, home, api, callbackPort, marker, responses, send };
}

/** As setup(), then signed in through the API, with the catalog served once (so it is cached). */
async function setupSignedIn(): Promise<Setup> {
  const s = await setup();
  const login = (await s.send(`${R}/auth/login`, { method: 'POST' })).json as LoginState;
  expect(await followLogin(login.authorization_url!)).toBe(200);
  expect(await waitForLogin(s)).toMatchObject({ status: 'authenticated' });
  expect((await s.send(`${R}/default/servers`)).status).toBe(200);
  return s;
}

/** `thv registry logout` as a user runs it next to the server: the built CLI, another process. */
async function logoutInTerminal(s: Setup): Promise<void> {
  const logout = await runThv(['registry', 'logout'], s.home, { env: { TOOLHIVE_SECRETS_PASSWORD: SECRETS_PASSWORD } });
  expect(logout.code, logout.stderr).toBe(0);
}

async function loginState(s: Setup): Promise<LoginState> {
  return (await s.send(`${R}/auth/status`)).json as LoginState;
}

async function waitForLogin(s: Setup): Promise<LoginState> {
  return vi.waitFor(
    async () => {
      const state = await loginState(s);
      if (state.status === 'pending') throw new Error('the login is still pending');
      return state;
    },
    { timeout: 15_000, interval: 50 },
  );
}

describe('signing the API server in to an OAuth registry', () => {
  it('PUT with auth stores the settings after discovery; the info shows them and no token', async () => {
    const s = await setup();
    const info = (await s.send(R)).json as { registries: Array<Record<string, unknown>> };
    expect(info.registries[0]).toEqual({
      name: 'default',
      type: 'api',
      source: expect.any(String),
      auth_status: 'configured',
      auth_type: 'oauth',
      auth_config: { issuer: s.idp.issuer, client_id: TEST_CLIENT_ID, audience: 'registry', scopes: ['openid', 'offline_access'] },
    });
  });

  it('PUT with an issuer whose discovery fails is refused and nothing is stored', async () => {
    const s = await setup();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const res = await s.send(`${R}/default`, {
      method: 'PUT',
      body: { api_url: s.registry.url, allow_private_ip: true, auth: { issuer: dead, client_id: TEST_CLIENT_ID } },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.json).toMatchObject({ code: expect.any(String), message: expect.stringContaining(dead) });
    const info = (await s.send(R)).json as { registries: Array<{ auth_config: { issuer: string } }> };
    expect(info.registries[0]!.auth_config.issuer).toBe(s.idp.issuer);
  });

  it('login answers at once with the URL; completing it in a browser authenticates; logout undoes it', async () => {
    const s = await setup();
    const before = await s.send(`${R}/default/servers`);
    expect(before.status).toBe(503);
    expect(before.json).toMatchObject({ code: 'registry_auth_required' });

    const login = await s.send(`${R}/auth/login`, { method: 'POST' });
    expect(login.status).toBe(200);
    const pending = login.json as LoginState;
    expect(pending).toMatchObject({ status: 'pending', auth_status: 'configured', auth_type: 'oauth' });
    const url = new URL(pending.authorization_url!);
    expect(url.origin).toBe(s.idp.issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(`http://localhost:${s.callbackPort}/callback`);
    expect(await isConnectRefused(s.callbackPort)).toBe(false);
    expect(await loginState(s)).toMatchObject({ status: 'pending', authorization_url: pending.authorization_url });

    const again = await s.send(`${R}/auth/login`, { method: 'POST', body: {} });
    expect((again.json as LoginState).authorization_url).toBe(pending.authorization_url);

    expect(await followLogin(pending.authorization_url!)).toBe(200);
    const done = await waitForLogin(s);
    expect(done).toEqual({ status: 'authenticated', auth_status: 'authenticated', auth_type: 'oauth' });
    expect(existsSync(s.marker)).toBe(false);
    expect(await isBindable(s.callbackPort)).toBe(true);

    expect((await s.send(R)).json).toMatchObject({ registries: [{ auth_status: 'authenticated', auth_type: 'oauth' }] });
    const servers = await s.send(`${R}/default/servers`);
    expect(servers.status).toBe(200);
    expect((servers.json as { servers: Array<{ name: string }> }).servers.map((x) => x.name)).toContain('io.private/server-00001');
    expect(s.registry.acceptedTokens.size).toBeGreaterThan(0);

    const logout = await s.send(`${R}/auth/logout`, { method: 'POST' });
    expect(logout.status).toBe(200);
    expect(logout.json).toEqual({ status: 'unauthenticated', auth_status: 'configured', auth_type: 'oauth' });
    expect((await s.send(R)).json).toMatchObject({ registries: [{ auth_status: 'configured', auth_config: { issuer: s.idp.issuer } }] });
    const after = await s.send(`${R}/default/servers`);
    expect(after.status).toBe(503);
    expect(after.json).toMatchObject({ code: 'registry_auth_required' });

    // No token ever left the server: not in a response, the log, or the cache and config files.
    const tokens = [...s.registry.acceptedTokens];
    const seen = [...s.responses.map((r) => r.text), ...s.api.logLines, await filesUnder(s.home.root)].join('\n');
    for (const token of tokens) expect(seen).not.toContain(token);
  });

  it('after logout the servers route is 503 even when the IdP could not revoke the token', async () => {
    const s = await setupSignedIn();
    // The IdP's HTTP side goes away: revocation fails, and the access token stays valid at the registry.
    await s.idp.close();
    const logout = await s.send(`${R}/auth/logout`, { method: 'POST' });
    expect(logout.status).toBe(200);
    expect(logout.json).toMatchObject({ status: 'unauthenticated', auth_status: 'configured' });
    const after = await s.send(`${R}/default/servers`);
    expect(after.status).toBe(503);
    expect(after.json).toMatchObject({ code: 'registry_auth_required' });
  });

  it('`thv registry logout` in a terminal ends the running server\'s session: servers is 503 at once', async () => {
    const s = await setupSignedIn();

    await logoutInTerminal(s);

    const after = await s.send(`${R}/default/servers`);
    expect(after.status).toBe(503);
    expect(after.json).toMatchObject({ code: 'registry_auth_required' });
  });

  it('a logout in another process drops the server\'s access token even when the IdP could not revoke it', async () => {
    const s = await setupSignedIn();
    // Revocation fails, so the access token the server holds would still open the registry.
    await s.idp.close();
    await logoutInTerminal(s);

    const refreshed = await s.send(`${R}/default/refresh`, { method: 'POST' });
    expect(refreshed.status).toBe(503);
    expect(refreshed.json).toMatchObject({ code: 'registry_auth_required' });
  });

  it('{"open_browser": true} makes the server run BROWSER, which completes the login', async () => {
    const s = await setup();
    const login = await s.send(`${R}/auth/login`, { method: 'POST', body: { open_browser: true } });
    expect(login.status).toBe(200);
    expect(await waitForLogin(s)).toMatchObject({ status: 'authenticated' });
    expect((await readFile(s.marker, 'utf8')).trim().split('\n')).toEqual(['follow']);
    expect((await s.send(`${R}/default/servers`)).status).toBe(200);
  });

  it('a login whose callback carries the wrong state ends failed, with the reason', async () => {
    const s = await setup({ TEST_BROWSER_MODE: 'tamper-state' });
    await s.send(`${R}/auth/login`, { method: 'POST', body: { open_browser: true } });
    const state = await waitForLogin(s);
    expect(state).toMatchObject({ status: 'failed', auth_status: 'configured', reason: expect.stringMatching(/state/) });
    expect(await isBindable(s.callbackPort)).toBe(true);
    expect((await s.send(`${R}/default/servers`)).status).toBe(503);
  });

  it('a logout while a login is pending abandons it and frees the callback port', async () => {
    const s = await setup();
    const login = (await s.send(`${R}/auth/login`, { method: 'POST' })).json as LoginState;
    expect(login.status).toBe('pending');
    const logout = await s.send(`${R}/auth/logout`, { method: 'POST' });
    expect(logout.json).toMatchObject({ status: 'unauthenticated' });
    await vi.waitFor(async () => expect(await isBindable(s.callbackPort)).toBe(true), { timeout: 5_000, interval: 20 });
  });
});

async function filesUnder(root: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name), 'latin1'));
  }
  return parts.join('\n');
}

