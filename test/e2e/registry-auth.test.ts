import { createServer } from 'node:net';
import { chmod, readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigStore } from '../../src/config/store.js';
import { resolvePaths } from '../../src/core/paths.js';
import { openSecretsProvider, scopedSecrets } from '../../src/secrets/index.js';
import { TEST_BROWSER, makeTempHome, runThv, type CliResult, type RunOptions, type TempHome } from '../fixtures/cli.js';
import { startTestIdp, type TestIdp } from '../fixtures/idp.js';
import { startProtectedRegistry, type ProtectedRegistry } from '../fixtures/protected-registry.js';
import { makeServers, startRegistryServer } from '../fixtures/registry-server.js';
import { freePort, isBindable as portIsFree } from '../fixtures/ports.js';

const AUTH_MESSAGE = 'Error: failed to list servers: registry authentication required: Run `thv registry login` to authenticate.';

let idp: TestIdp;
let registry: ProtectedRegistry;
let home: TempHome;
let callbackPort: number;
/** Everything every thv run printed, for the "no token anywhere" check. */
const transcript: CliResult[] = [];

beforeAll(async () => {
  await chmod(TEST_BROWSER, 0o755);
  idp = await startTestIdp({ accessTokenTtl: 600 });
  registry = await startProtectedRegistry(idp, makeServers(3, 'io.private'));
});
afterAll(async () => {
  await registry.close();
  await idp.close();
});
beforeEach(async () => {
  home = await makeTempHome();
  Object.assign(home.env, {
    TOOLHIVE_SECRETS_PASSWORD: 'e2e-password',
    BROWSER: TEST_BROWSER,
    TEST_BROWSER_LOG: join(home.root, 'browser.log'),
  });
  callbackPort = await freePort();
  transcript.length = 0;
});
afterEach(() => home.cleanup());

async function thv(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const result = await runThv(args, home, options);
  transcript.push(result);
  return result;
}

async function configure(issuer = idp.issuer): Promise<void> {
  const set = await thv([
    'config', 'set-registry', registry.url, '--allow-private-ip',
    '--issuer', issuer, '--client-id', idp.clientId, '--callback-port', String(callbackPort),
  ]);
  expect(set.stderr).toBe('');
  expect(set.code).toBe(0);
}

async function login(): Promise<CliResult> {
  const result = await thv(['registry', 'login'], { env: { TEST_BROWSER_MARKER: join(home.root, 'browser-ran') } });
  expect(result.stderr).toContain(`${idp.issuer}/auth?`);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

async function registrySecrets() {
  const paths = resolvePaths(home.env);
  const config = await new ConfigStore(paths.configFile).load();
  return scopedSecrets(await openSecretsProvider({ paths, env: home.env, config, interactive: false }), 'registry');
}

/** Arranges "the cached access token has expired" without waiting for it. */
async function expireAccessToken(): Promise<void> {
  const secrets = await registrySecrets();
  const keys = (await secrets.list()).filter((k) => k.endsWith('_ACCESS'));
  expect(keys).toHaveLength(1);
  const entry = JSON.parse((await secrets.get(keys[0]!))!) as Record<string, unknown>;
  await secrets.set(keys[0]!, JSON.stringify({ ...entry, expires_at: 0 }));
}

async function storedRefreshToken(): Promise<string | undefined> {
  const secrets = await registrySecrets();
  const key = (await secrets.list()).find((k) => /^REGISTRY_OAUTH_[0-9a-f]{8}$/.test(k));
  return key ? secrets.get(key) : undefined;
}

async function listNames(extra: string[] = [], options: RunOptions = {}): Promise<CliResult & { names: string[] }> {
  const result = await thv(['registry', 'list', '--format', 'json', ...extra], options);
  const names = result.code === 0 ? (JSON.parse(result.stdout) as Array<{ name: string }>).map((s) => s.name) : [];
  return { ...result, names };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

describe('thv registry login against an OAuth-protected registry', () => {
  it('logs in through the browser, then `registry list` sends the bearer token the IdP issued', async () => {
    await configure();
    await login();
    expect(await readFile(join(home.root, 'browser-ran'), 'utf8')).toBe('follow\n');
    const list = await listNames();
    expect(list.code, list.stderr).toBe(0);
    expect(list.names).toEqual(['io.private/server-00000', 'io.private/server-00001', 'io.private/server-00002']);
    const last = registry.requests.at(-1)!;
    expect(last.authorization).toMatch(/^Bearer \S+$/);
    expect(registry.acceptedTokens.has(last.authorization!.slice('Bearer '.length))).toBe(true);
    expect(await portIsFree(callbackPort)).toBe(true);
  });

  it('with a warm cache, a refresh token the IdP rejects makes `list --refresh` exit 3 with no servers', async () => {
    await configure();
    await login();
    expect((await listNames()).code).toBe(0);
    await expireAccessToken();
    await idp.revokeAllGrants();
    const result = await listNames(['--refresh']);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(AUTH_MESSAGE);
    expect(result.stderr).toContain('invalid_grant');
    expect(existsSync(join(home.root, 'browser.log'))).toBe(false);
  });

  it('a 401 for an access token the registry stopped honouring is answered with one refresh, not an error', async () => {
    await configure();
    await login();
    expect((await listNames()).code).toBe(0);
    for (const token of registry.acceptedTokens) registry.distrustedTokens.add(token);
    const refreshesBefore = idp.counts.refreshGrants;
    const result = await listNames(['--refresh']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.names).toHaveLength(3);
    expect(idp.counts.refreshGrants).toBe(refreshesBefore + 1);
  });

  it('a browser flow that is never completed exits 3 and leaves the callback port free', async () => {
    await configure();
    const result = await thv(['registry', 'login'], { env: { TEST_BROWSER_MODE: 'abandon', TOOLHIVE_OAUTH_FLOW_TIMEOUT: '700ms' } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('did not complete within 700ms');
    expect(result.stderr).toContain(`redirect_uri=http%3A%2F%2Flocalhost%3A${callbackPort}%2Fcallback`);
    expect(await portIsFree(callbackPort)).toBe(true);
  });

  it('a callback port in use is named in the error, with the flag that changes it', async () => {
    await configure();
    const blocker = createServer();
    await new Promise<void>((resolveListen) => blocker.listen(callbackPort, '127.0.0.1', resolveListen));
    try {
      const result = await thv(['registry', 'login']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${callbackPort}`);
      expect(result.stderr).toContain('--callback-port');
      expect(existsSync(join(home.root, 'browser.log'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('logout removes the tokens and the cache, keeps the settings, and `login` works again without flags', async () => {
    await configure();
    await login();
    expect((await listNames()).code).toBe(0);
    const paths = resolvePaths(home.env);
    const cacheFiles = (await readdir(paths.cacheDir)).filter((f) => f.startsWith('registry-'));
    expect(cacheFiles).toHaveLength(1);
    const revocationsBefore = idp.counts.revocationRequests;

    const logout = await thv(['registry', 'logout']);
    expect(logout.code, logout.stderr).toBe(0);
    expect(await (await registrySecrets()).list()).toEqual([]);
    expect(existsSync(join(paths.cacheDir, cacheFiles[0]!))).toBe(false);
    expect(idp.counts.revocationRequests).toBe(revocationsBefore + 1);
    const config = await new ConfigStore(paths.configFile).load();
    expect(config.registry_auth?.oauth).toEqual({
      issuer: idp.issuer,
      client_id: idp.clientId,
      scopes: ['openid', 'offline_access'],
      callback_port: callbackPort,
    });

    const afterLogout = await listNames(['--refresh']);
    expect(afterLogout.code).toBe(3);
    await login();
    expect((await listNames()).code).toBe(0);
  });

  it('after a rotating refresh, a second process still authenticates with the rotated token', async () => {
    await configure();
    await login();
    const errorsBefore = idp.counts.refreshGrantErrors;
    const original = await storedRefreshToken();
    await expireAccessToken();
    const first = await listNames(['--refresh']);
    expect(first.code, first.stderr).toBe(0);
    const rotated = await storedRefreshToken();
    expect(rotated).toBeTruthy();
    expect(rotated).not.toBe(original);

    await expireAccessToken();
    const second = await listNames(['--refresh']);
    expect(second.code, second.stderr).toBe(0);
    expect(idp.counts.refreshGrantErrors).toBe(errorsBefore);
  });

  it('two processes refreshing at the same moment both succeed, and the IdP sees one refresh', async () => {
    await configure();
    await login();
    await expireAccessToken();
    const refreshesBefore = idp.counts.refreshGrants;
    const errorsBefore = idp.counts.refreshGrantErrors;
    const [a, b] = await Promise.all([listNames(['--refresh']), listNames(['--refresh'])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(idp.counts.refreshGrants).toBe(refreshesBefore + 1);
    expect(idp.counts.refreshGrantErrors).toBe(errorsBefore);
  });

  it('refuses an issuer whose discovery document names a different issuer', async () => {
    expect((await thv(['config', 'set-registry', registry.url, '--allow-private-ip'])).code).toBe(0);
    const result = await thv(['registry', 'login', '--issuer', `${idp.issuer}/`, '--client-id', idp.clientId]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('possible hijack');
    expect(existsSync(join(home.root, 'browser.log'))).toBe(false);
  });

  it('refuses a plain-http issuer that is not on loopback', async () => {
    expect((await thv(['config', 'set-registry', registry.url, '--allow-private-ip'])).code).toBe(0);
    const result = await thv(['registry', 'login', '--issuer', 'http://idp.example.com', '--client-id', 'thv']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('plain http, which is refused outside localhost');
  });

  it('without a TTY and without a token, fails at once with exit 3: no login attempted, no port bound, no browser', async () => {
    await configure();
    const marker = join(home.root, 'browser-ran');
    // The callback port is held for the whole run: a login attempt would fail on it with a
    // "port … is not available" error (exit 1) or wait for a browser, instead of this answer.
    const held = createServer();
    await new Promise<void>((done) => held.listen(callbackPort, '127.0.0.1', done));
    let result: CliResult;
    try {
      result = await listNames(['--refresh'], { env: { TEST_BROWSER_MARKER: marker } });
    } finally {
      await new Promise((done) => held.close(done));
    }
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(AUTH_MESSAGE);
    expect(result.stderr).toContain('no refresh token is stored');
    expect(result.stderr).not.toContain('not available');
    expect(existsSync(marker)).toBe(false);
    expect(await portIsFree(callbackPort)).toBe(true);

    const forced = await thv(['registry', 'list', '--refresh'], { env: { TOOLHIVE_NON_INTERACTIVE: '1', TEST_BROWSER_MARKER: marker } });
    expect(forced.code).toBe(3);
    expect(existsSync(marker)).toBe(false);
  });

  it('never writes a token to a file, the config or the output', async () => {
    await configure();
    await login();
    await listNames();
    await expireAccessToken();
    await listNames(['--refresh']);
    await thv(['registry', 'info', 'server-00001']);
    const tokens = [...registry.acceptedTokens, (await storedRefreshToken())!];
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    await thv(['registry', 'logout']);

    const paths = resolvePaths(home.env);
    const files = (await filesUnder(home.root)).filter((f) => f !== paths.secretsFile);
    expect(files).toContain(paths.configFile);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const token of tokens) expect(text.includes(token), `${file} holds a token`).toBe(false);
    }
    const secretsFile = await readFile(paths.secretsFile, 'utf8');
    for (const token of tokens) expect(secretsFile.includes(token)).toBe(false);
    for (const run of transcript) {
      for (const token of tokens) {
        expect(run.stdout.includes(token)).toBe(false);
        expect(run.stderr.includes(token)).toBe(false);
      }
    }
    expect((await stat(paths.configFile)).mode & 0o777).toBe(0o600);
  });
});

describe('bearer mode', () => {
  it('sends THV_REGISTRY_TOKEN, and exits 3 without it', async () => {
    const ci = await startRegistryServer({
      servers: makeServers(2, 'io.ci'),
      authorize: (req) => (req.headers.authorization === 'Bearer ci-secret-token' ? undefined : { status: 401 }),
    });
    try {
      const paths = resolvePaths(home.env);
      await mkdir(paths.configDir, { recursive: true });
      await writeFile(paths.configFile, stringify({ registry_api_url: ci.url, allow_private_registry_ip: true, registry_auth: { type: 'bearer' } }));
      const ok = await thv(['registry', 'list', '--format', 'json'], { env: { THV_REGISTRY_TOKEN: 'ci-secret-token' } });
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toHaveLength(2);

      const missing = await thv(['registry', 'list', '--refresh']);
      expect(missing.code).toBe(3);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toContain('THV_REGISTRY_TOKEN');
      for (const run of transcript) expect(run.stderr + run.stdout).not.toContain('ci-secret-token');
      expect(await readFile(paths.configFile, 'utf8')).not.toContain('ci-secret-token');
    } finally {
      await ci.close();
    }
  });
});
