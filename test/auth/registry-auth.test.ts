import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  createRegistryAuthorizer,
  registryAuthStatus,
  registryLogin,
  registryLogout,
  startRegistryLogin,
  type RegistryAuthDeps,
} from '../../src/auth/registry-auth.js';
import { registryIdentity, registryTokenKey } from '../../src/auth/registry-identity.js';
import type { Config } from '../../src/config/schema.js';
import { ConfigStore } from '../../src/config/store.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { RegistryAuthRequiredError } from '../../src/core/errors.js';
import { resolvePaths } from '../../src/core/paths.js';
import { RegistryService, type SetRegistryInput } from '../../src/registry/service.js';
import { openSecretsProvider, scopedSecrets } from '../../src/secrets/index.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { startTestIdp, type TestIdp } from '../fixtures/idp.js';
import { startProtectedRegistry, type ProtectedRegistry } from '../fixtures/protected-registry.js';
import { followLogin } from '../fixtures/test-browser.mjs';

/**
 * Real time plus an offset a test moves forward, so tokens "expire" without waiting. `freeze()` stops
 * the real-time part, for a test whose margins (seconds before expiry) must not shrink while a loaded
 * machine runs it slowly.
 */
function offsetClock(): Clock & { advance(ms: number): void; freeze(): void } {
  let offset = 0;
  let frozenAt: number | undefined;
  return {
    now: () => (frozenAt ?? Date.now()) + offset,
    sleep: systemClock.sleep,
    advance: (ms) => void (offset += ms),
    freeze: () => void (frozenAt = Date.now()),
  };
}

let idp: TestIdp;
let registry: ProtectedRegistry;
let home: TempHome;
let clock: ReturnType<typeof offsetClock>;
const opened: string[] = [];

beforeAll(async () => {
  idp = await startTestIdp({ accessTokenTtl: 600 });
  registry = await startProtectedRegistry(idp);
});
afterAll(async () => {
  await registry.close();
  await idp.close();
});
beforeEach(async () => {
  home = await makeTempHome();
  home.env.TOOLHIVE_SECRETS_PASSWORD = 'test-password';
  clock = offsetClock();
  opened.length = 0;
  await writeConfig({
    registry_api_url: registry.url,
    allow_private_registry_ip: true,
    registry_auth: { type: 'oauth', oauth: { issuer: idp.issuer, client_id: idp.clientId } },
  });
});
afterEach(() => home.cleanup());

async function writeConfig(config: Config): Promise<void> {
  const paths = resolvePaths(home.env);
  await mkdir(paths.configDir, { recursive: true });
  await writeFile(paths.configFile, stringify(config));
}

async function deps(overrides: Partial<RegistryAuthDeps> = {}): Promise<RegistryAuthDeps> {
  const paths = resolvePaths(home.env);
  const configStore = new ConfigStore(paths.configFile);
  return {
    config: await configStore.load(),
    configStore,
    paths,
    env: home.env,
    interactive: false,
    clock,
    err: () => undefined,
    opener: async (url) => {
      opened.push(url);
      await followLogin(url);
    },
    ...overrides,
  };
}

async function registrySecrets() {
  const paths = resolvePaths(home.env);
  const config = await new ConfigStore(paths.configFile).load();
  return scopedSecrets(await openSecretsProvider({ paths, env: home.env, config, interactive: false }), 'registry');
}

async function listWith(d: RegistryAuthDeps): Promise<number> {
  const authorizer = createRegistryAuthorizer(d)!;
  const res = await fetch(`${registry.url}/v0.1/servers?limit=100&version=latest`, {
    headers: { authorization: await authorizer.authorizationHeader() },
  });
  return res.status;
}

async function login(): Promise<void> {
  await registryLogin({ ...(await deps()), overrides: { callbackPort: 0 } });
}

/** Holds a port so that a flow which tried to bind it would fail loudly. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('registry login', () => {
  it('stores the refresh token under the derived key and only its reference and expiry in the config', async () => {
    await login();
    const d = await deps();
    const key = registryTokenKey(registryIdentity(d.config)!, idp.issuer);
    expect(key).toMatch(/^REGISTRY_OAUTH_[0-9a-f]{8}$/);
    expect(d.config.registry_auth?.oauth).toMatchObject({
      issuer: idp.issuer,
      client_id: idp.clientId,
      cached_refresh_token_ref: key,
      cached_token_expiry: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(await (await registrySecrets()).get(key)).toBeTruthy();
    expect(await registryAuthStatus(d)).toBe('authenticated');
    expect(await listWith(d)).toBe(200);
    expect(opened).toHaveLength(1);
  });

  it('can be started headlessly: the URL first, the tokens stored once the callback arrives', async () => {
    const pending = await startRegistryLogin({ ...(await deps()), overrides: { callbackPort: 0 } });
    expect(pending.authorizationUrl).toContain(`${idp.issuer}/auth?`);
    await followLogin(pending.authorizationUrl);
    await pending.completion;
    expect(await registryAuthStatus(await deps())).toBe('authenticated');
  });

  it('applies --issuer/--client-id/--scopes and keeps them for the next login', async () => {
    await writeConfig({ registry_api_url: registry.url });
    await registryLogin({ ...(await deps()), overrides: { issuer: idp.issuer, clientId: idp.clientId, scopes: ['openid'], callbackPort: 0 } });
    const d = await deps();
    expect(d.config.registry_auth).toMatchObject({ type: 'oauth', oauth: { issuer: idp.issuer, client_id: idp.clientId, scopes: ['openid', 'offline_access'] } });
    expect(await listWith(d)).toBe(200);
  });

  it('sets the registry given with --registry through the registry service, then logs in', async () => {
    await writeConfig({ allow_private_registry_ip: true });
    const base = await deps();
    const setRegistry = (input: SetRegistryInput) => new RegistryService({ paths: base.paths, env: base.env, interactive: false }).setRegistry(input);
    await registryLogin({ ...base, setRegistry, overrides: { registry: registry.url, issuer: idp.issuer, clientId: idp.clientId, callbackPort: 0 } });
    const d = await deps();
    expect(d.config.registry_api_url).toBe(registry.url);
    expect(await listWith(d)).toBe(200);
  });

  it('works with an IdP that issues no refresh token: warns, and the access token is used until it expires', async () => {
    const stingy = await startTestIdp({ refreshTokens: 'consent' });
    try {
      const printed: string[] = [];
      await registryLogin({ ...(await deps({ err: (t) => printed.push(t) })), overrides: { issuer: stingy.issuer, clientId: stingy.clientId, callbackPort: 0 } });
      expect(printed.join('')).toContain('issued no refresh token');
      const authorizer = createRegistryAuthorizer(await deps())!;
      expect(await authorizer.authorizationHeader()).toMatch(/^Bearer /);
      clock.advance(3600_000);
      const err = (await createRegistryAuthorizer(await deps())!.authorizationHeader().catch((e: unknown) => e)) as RegistryAuthRequiredError;
      expect((err.cause as Error).message).toMatch(/the access token has expired and no refresh token is stored/);
    } finally {
      await stingy.close();
    }
  });

  it('refuses an issuer whose discovery document names another issuer, and stores nothing', async () => {
    const before = await readFile(resolvePaths(home.env).configFile, 'utf8');
    await expect(
      registryLogin({ ...(await deps()), overrides: { issuer: `${idp.issuer}/`, clientId: idp.clientId, callbackPort: 0 } }),
    ).rejects.toThrow(/possible hijack/);
    expect(await readFile(resolvePaths(home.env).configFile, 'utf8')).toBe(before);
    expect(opened).toHaveLength(0);
  });

  it('turns an abandoned browser flow into an auth-required error and frees the port', async () => {
    const held = await holdPort();
    held.server.close();
    const d = await deps({ env: { ...home.env, TOOLHIVE_OAUTH_FLOW_TIMEOUT: '300ms' }, opener: async (url) => void opened.push(url) });
    const failure = registryLogin({ ...d, overrides: { callbackPort: held.port } });
    await expect(failure).rejects.toBeInstanceOf(RegistryAuthRequiredError);
    await expect(failure).rejects.toThrow(/did not complete within 300ms/);
    expect(opened).toHaveLength(1);
    const probe = createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(held.port, '127.0.0.1', resolve));
    probe.close();
  });
});

describe('the authorizer', () => {
  it('is absent when registry_auth.type is unset', async () => {
    await writeConfig({ registry_api_url: registry.url });
    expect(createRegistryAuthorizer(await deps())).toBeUndefined();
    expect(await registryAuthStatus(await deps())).toBe('none');
  });

  it('refreshes 30 s before expiry and persists the rotated refresh token, so a later process still authenticates', async () => {
    clock.freeze();
    await login();
    const key = (await deps()).config.registry_auth!.oauth!.cached_refresh_token_ref!;
    const first = await (await registrySecrets()).get(key);

    const refreshesBefore = idp.counts.refreshGrants;
    clock.advance(600_000 - 32_000); // 32 s before expiry: still used as it is
    expect(await listWith(await deps())).toBe(200);
    expect(idp.counts.refreshGrants).toBe(refreshesBefore);
    clock.advance(4_000); // 28 s before expiry: inside the 30 s leeway
    expect(await listWith(await deps())).toBe(200);
    expect(idp.counts.refreshGrants).toBe(refreshesBefore + 1);
    const second = await (await registrySecrets()).get(key);
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);

    // A "new process" restoring the session from the store refreshes with the rotated token.
    clock.advance(600_000);
    expect(await listWith(await deps())).toBe(200);
    expect(idp.counts.refreshGrants).toBe(refreshesBefore + 2);
    expect(idp.counts.refreshGrantErrors).toBe(0);
  });

  it('uses the cached access token without contacting the IdP while it is fresh', async () => {
    await login();
    const refreshesBefore = idp.counts.refreshGrants;
    expect(await listWith(await deps())).toBe(200);
    expect(await listWith(await deps())).toBe(200);
    expect(idp.counts.refreshGrants).toBe(refreshesBefore);
  });

  it('after invalidate() (the registry refused the token) the next call refreshes instead of reusing it', async () => {
    await login();
    const authorizer = createRegistryAuthorizer(await deps())!;
    const before = await authorizer.authorizationHeader();
    const refreshesBefore = idp.counts.refreshGrants;
    await authorizer.invalidate();
    const after = await authorizer.authorizationHeader();
    expect(after).not.toBe(before);
    expect(idp.counts.refreshGrants).toBe(refreshesBefore + 1);
  });

  it('lets only one of two concurrent refreshers reach the IdP; both get a token', async () => {
    await login();
    clock.advance(600_000);
    const refreshesBefore = idp.counts.refreshGrants;
    const [a, b] = [createRegistryAuthorizer(await deps())!, createRegistryAuthorizer(await deps())!];
    const [ha, hb] = await Promise.all([a.authorizationHeader(), b.authorizationHeader()]);
    expect(ha).toBe(hb);
    expect(idp.counts.refreshGrants).toBe(refreshesBefore + 1);
    expect(idp.counts.refreshGrantErrors).toBe(0);
  });

  it('fails with the IdP rejection as the cause when the refresh token was revoked, without a browser', async () => {
    await login();
    await idp.revokeAllGrants();
    clock.advance(600_000);
    const failure = createRegistryAuthorizer(await deps())!.authorizationHeader();
    await expect(failure).rejects.toBeInstanceOf(RegistryAuthRequiredError);
    const err = (await failure.catch((e: unknown) => e)) as RegistryAuthRequiredError;
    expect(err.message).toBe('registry authentication required');
    expect(String((err.cause as Error).message)).toMatch(/invalid_grant/);
    expect(opened).toHaveLength(1); // the login's, and no other
    expect(await registryAuthStatus(await deps())).toBe('configured');
  });

  it('fails fast in non-interactive mode with no token: no port bound, no browser', async () => {
    const held = await holdPort();
    try {
      await writeConfig({
        registry_api_url: registry.url,
        registry_auth: { type: 'oauth', oauth: { issuer: idp.issuer, client_id: idp.clientId, callback_port: held.port } },
      });
      // The callback port is held: a login attempt would fail on it (port_in_use), not with this cause.
      const err = (await createRegistryAuthorizer(await deps())!.authorizationHeader().catch((e: unknown) => e)) as RegistryAuthRequiredError;
      expect(err).toBeInstanceOf(RegistryAuthRequiredError);
      expect((err.cause as Error).message).toMatch(/no refresh token is stored/);
      expect(opened).toHaveLength(0);
    } finally {
      held.server.close();
    }
  });

  it('starts at most one browser flow per command, even when it fails', async () => {
    const held = await holdPort();
    held.server.close();
    await writeConfig({
      registry_api_url: registry.url,
      registry_auth: { type: 'oauth', oauth: { issuer: idp.issuer, client_id: idp.clientId, callback_port: held.port } },
    });
    const authorizer = createRegistryAuthorizer(
      await deps({ interactive: true, env: { ...home.env, TOOLHIVE_OAUTH_FLOW_TIMEOUT: '200ms' }, opener: async (url) => void opened.push(url) }),
    )!;
    const first = (await authorizer.authorizationHeader().catch((e: unknown) => e)) as Error;
    expect(first).toBeInstanceOf(RegistryAuthRequiredError);
    expect((first.cause as Error).message).toMatch(/did not complete within 200ms/);
    await expect(authorizer.authorizationHeader()).rejects.toBeInstanceOf(RegistryAuthRequiredError);
    expect(opened).toHaveLength(1);
  });

  it('runs the browser flow for an interactive command with no token, and stores what it got', async () => {
    const held = await holdPort();
    held.server.close();
    await writeConfig({
      registry_api_url: registry.url,
      registry_auth: { type: 'oauth', oauth: { issuer: idp.issuer, client_id: idp.clientId, callback_port: held.port } },
    });
    expect(await listWith(await deps({ interactive: true }))).toBe(200);
    expect(opened).toHaveLength(1);
    expect(await registryAuthStatus(await deps())).toBe('authenticated');
  });

  it('reports an unreachable IdP as the cause when a refresh is due', async () => {
    const doomed = await startTestIdp();
    await registryLogin({ ...(await deps()), overrides: { issuer: doomed.issuer, clientId: doomed.clientId, callbackPort: 0 } });
    await doomed.close();
    clock.advance(3600_000);
    const err = (await createRegistryAuthorizer(await deps())!.authorizationHeader().catch((e: unknown) => e)) as RegistryAuthRequiredError;
    expect(err).toBeInstanceOf(RegistryAuthRequiredError);
    expect((err.cause as Error).message).toMatch(/could not reach issuer .* ECONNREFUSED/);
    expect(await registryAuthStatus(await deps())).toBe('authenticated'); // the refresh token is kept for later
  });

  it('reports an unreadable secrets store as the cause', async () => {
    await login();
    clock.advance(600_000);
    const err = (await createRegistryAuthorizer(await deps({ env: { ...home.env, TOOLHIVE_SECRETS_PASSWORD: 'wrong' } }))!
      .authorizationHeader()
      .catch((e: unknown) => e)) as RegistryAuthRequiredError;
    expect(err).toBeInstanceOf(RegistryAuthRequiredError);
    expect((err.cause as Error).message).toMatch(/secrets store holding the registry tokens cannot be read/);
  });

  it('reports incomplete OAuth settings as auth required with a configuration hint', async () => {
    await writeConfig({ registry_api_url: registry.url, registry_auth: { type: 'oauth', oauth: { issuer: idp.issuer } } });
    const err = (await createRegistryAuthorizer(await deps())!.authorizationHeader().catch((e: unknown) => e)) as RegistryAuthRequiredError;
    expect(err).toBeInstanceOf(RegistryAuthRequiredError);
    expect(err.hint).toMatch(/--issuer <url> --client-id <id>/);
  });
});

describe('registry logout', () => {
  it('deletes the tokens and the disk cache, revokes the refresh token and keeps the OAuth settings', async () => {
    await login();
    const d = await deps();
    const key = d.config.registry_auth!.oauth!.cached_refresh_token_ref!;
    const refreshToken = (await (await registrySecrets()).get(key))!;
    const cacheFile = d.paths.registryCacheFile(registryIdentity(d.config)!);
    await mkdir(join(cacheFile, '..'), { recursive: true });
    await writeFile(cacheFile, '{}');
    const revocationsBefore = idp.counts.revocationRequests;

    const result = await registryLogout(d);
    expect(result).toEqual({ removedTokens: true, revoked: true });
    expect(idp.counts.revocationRequests).toBe(revocationsBefore + 1);
    expect(await idp.provider.RefreshToken.find(refreshToken)).toBeUndefined();
    expect(await (await registrySecrets()).list()).toEqual([]);
    expect(existsSync(cacheFile)).toBe(false);
    const after = (await deps()).config;
    expect(after.registry_auth).toEqual({ type: 'oauth', oauth: { issuer: idp.issuer, client_id: idp.clientId } });
    expect(await registryAuthStatus(await deps())).toBe('configured');

    await login();
    expect(await registryAuthStatus(await deps())).toBe('authenticated');
  });
});

describe('bearer mode', () => {
  it('reads the token from THV_REGISTRY_TOKEN, a named variable, or a file', async () => {
    await writeConfig({ registry_api_url: registry.url, registry_auth: { type: 'bearer' } });
    const viaEnv = createRegistryAuthorizer(await deps({ env: { ...home.env, THV_REGISTRY_TOKEN: 'ci-token' } }))!;
    expect(await viaEnv.authorizationHeader()).toBe('Bearer ci-token');

    await writeConfig({ registry_api_url: registry.url, registry_auth: { type: 'bearer', bearer: { token_env: 'MY_TOKEN' } } });
    expect(await createRegistryAuthorizer(await deps({ env: { ...home.env, MY_TOKEN: 'named' } }))!.authorizationHeader()).toBe('Bearer named');

    const file = join(home.root, 'token');
    await writeFile(file, 'from-file\n');
    await writeConfig({ registry_api_url: registry.url, registry_auth: { type: 'bearer', bearer: { token_file: file } } });
    expect(await createRegistryAuthorizer(await deps())!.authorizationHeader()).toBe('Bearer from-file');
    expect(await registryAuthStatus(await deps())).toBe('authenticated');
  });

  it('is auth required, naming the variable, when the token is missing', async () => {
    await writeConfig({ registry_api_url: registry.url, registry_auth: { type: 'bearer' } });
    const err = (await createRegistryAuthorizer(await deps())!.authorizationHeader().catch((e: unknown) => e)) as RegistryAuthRequiredError;
    expect(err).toBeInstanceOf(RegistryAuthRequiredError);
    expect(err.hint).toContain('THV_REGISTRY_TOKEN');
    expect(await registryAuthStatus(await deps())).toBe('configured');
  });
});

describe('a long-lived authorizer (the REST API)', () => {
  it('stops sending the token it holds in memory once this process logs out', async () => {
    await login();
    const authorizer = createRegistryAuthorizer(await deps())!;
    expect(await authorizer.authorizationHeader()).toMatch(/^Bearer /);
    await registryLogout(await deps());
    await expect(authorizer.authorizationHeader()).rejects.toBeInstanceOf(RegistryAuthRequiredError);
    await login();
    expect(await authorizer.authorizationHeader()).toMatch(/^Bearer /);
  });

  it('stops sending the token it holds in memory once another process logs out', async () => {
    await login();
    const authorizer = createRegistryAuthorizer(await deps())!;
    expect(await authorizer.authorizationHeader()).toMatch(/^Bearer /);
    // What `thv registry logout` does from a terminal, without this process hearing of it.
    const key = registryTokenKey(registryIdentity(await new ConfigStore(resolvePaths(home.env).configFile).load())!, idp.issuer);
    const secrets = await registrySecrets();
    await secrets.delete(key);
    await secrets.delete(`${key}_ACCESS`);
    await new ConfigStore(resolvePaths(home.env).configFile).update((draft) => {
      delete draft.registry_auth?.oauth?.cached_refresh_token_ref;
      delete draft.registry_auth?.oauth?.cached_token_expiry;
    });
    await expect(authorizer.authorizationHeader()).rejects.toBeInstanceOf(RegistryAuthRequiredError);
  });
});
