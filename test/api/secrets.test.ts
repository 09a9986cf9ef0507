import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { access, readFile } from 'node:fs/promises';
import { resolvePaths } from '../../src/core/paths.js';
import { EncryptedSecretsProvider, scopedSecrets, setupSecrets } from '../../src/secrets/index.js';
import { makeTempHome, runThv, type TempHome } from '../fixtures/cli.js';
import { CHEAP_KDF } from '../secrets/helpers.js';
import { startTestApi, type HttpResult, type TestApi } from './helpers.js';

const S = '/api/v1beta/secrets/default';
const KEYS = `${S}/keys`;
const PASSWORD = 'api-test-password';
const WITH_PASSWORD = { TOOLHIVE_SECRETS_PASSWORD: PASSWORD };

/** An encrypted store made with a cheap KDF; the server and the CLI keep the header's parameters. */
async function storeIn(home: TempHome, password = PASSWORD): Promise<EncryptedSecretsProvider> {
  const store = new EncryptedSecretsProvider({ file: resolvePaths(home.env).secretsFile, password: async () => password, kdf: CHEAP_KDF });
  await store.initialize();
  return store;
}

function expectNoValue(results: HttpResult[], api: TestApi, ...values: string[]): void {
  for (const value of values) {
    for (const res of results) expect(res.text).not.toContain(value);
    expect(api.logLines.join('\n')).not.toContain(value);
  }
}

describe('secrets routes on the encrypted store', () => {
  let home: TempHome;
  let store: EncryptedSecretsProvider;
  let api: TestApi;
  beforeAll(async () => {
    home = await makeTempHome();
    store = await storeIn(home);
    api = await startTestApi({ home, env: WITH_PASSWORD });
  });
  afterAll(async () => {
    await api.close();
    await home.cleanup();
  });

  it('GET /secrets/default names the encrypted provider with every capability', async () => {
    const res = await api.send(S);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      name: 'default',
      provider_type: 'encrypted',
      capabilities: { can_read: true, can_write: true, can_delete: true, can_list: true },
    });
  });

  it('create, list, update and delete round-trip without ever answering the value', async () => {
    const created = await api.send(KEYS, { method: 'POST', body: { key: 'GITHUB_TOKEN', value: 'first-value-1' } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ key: 'GITHUB_TOKEN' });

    const listed = await api.send(KEYS);
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual({ keys: [{ key: 'GITHUB_TOKEN' }] });

    const again = await api.send(KEYS, { method: 'POST', body: { key: 'GITHUB_TOKEN', value: 'other-value-2' } });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 'already_exists' });
    expect(await store.get('GITHUB_TOKEN')).toBe('first-value-1');

    const updated = await api.send(`${KEYS}/GITHUB_TOKEN`, { method: 'PUT', body: { value: 'second-value-3' } });
    expect(updated.status).toBe(200);
    expect(updated.json).toEqual({ key: 'GITHUB_TOKEN' });
    expect(await store.get('GITHUB_TOKEN')).toBe('second-value-3');

    const deleted = await api.send(`${KEYS}/GITHUB_TOKEN`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await api.send(KEYS)).json).toEqual({ keys: [] });

    const updateMissing = await api.send(`${KEYS}/GITHUB_TOKEN`, { method: 'PUT', body: { value: 'x' } });
    const deleteMissing = await api.send(`${KEYS}/GITHUB_TOKEN`, { method: 'DELETE' });
    expect([updateMissing.status, deleteMissing.status]).toEqual([404, 404]);
    expect(updateMissing.json).toMatchObject({ code: 'not_found' });
    expect(await store.get('GITHUB_TOKEN')).toBeUndefined();

    expectNoValue([created, listed, again, updated, deleted, updateMissing, deleteMissing], api, 'first-value-1', 'other-value-2', 'second-value-3');
  });

  it('a value set through the API is what `thv secret get` prints, and one set with `thv secret set` is listed and updatable', async () => {
    expect((await api.send(KEYS, { method: 'POST', body: { key: 'FROM_API', value: 'api-made-value' } })).status).toBe(201);
    const got = await runThv(['secret', 'get', 'FROM_API'], home, { env: WITH_PASSWORD });
    expect(got).toMatchObject({ code: 0, stdout: 'api-made-value\n' });

    const set = await runThv(['secret', 'set', 'FROM_CLI'], home, { env: WITH_PASSWORD, input: 'cli-made-value\n' });
    expect(set.code, set.stderr).toBe(0);
    const listed = await api.send(KEYS);
    expect(listed.json).toEqual({ keys: [{ key: 'FROM_API' }, { key: 'FROM_CLI' }] });

    expect((await api.send(`${KEYS}/FROM_CLI`, { method: 'PUT', body: { value: 'api-changed-value' } })).status).toBe(200);
    expect(await runThv(['secret', 'get', 'FROM_CLI'], home, { env: WITH_PASSWORD })).toMatchObject({ code: 0, stdout: 'api-changed-value\n' });

    expect((await api.send(`${KEYS}/FROM_CLI`, { method: 'DELETE' })).status).toBe(204);
    expect((await api.send(`${KEYS}/FROM_API`, { method: 'DELETE' })).status).toBe(204);
    expect(await runThv(['secret', 'list', '--format', 'json'], home, { env: WITH_PASSWORD })).toMatchObject({ code: 0, stdout: '[]\n' });
    expectNoValue([listed], api, 'api-made-value', 'cli-made-value', 'api-changed-value');
  });

  it("thv's internal keys are neither listed nor reachable", async () => {
    await scopedSecrets(store, 'registry').set('x', 'internal-refresh-token');
    const listed = await api.send(KEYS);
    expect(listed.json).toEqual({ keys: [] });

    const update = await api.send(`${KEYS}/__thv_registry_x`, { method: 'PUT', body: { value: 'hijack' } });
    const remove = await api.send(`${KEYS}/__thv_registry_x`, { method: 'DELETE' });
    const create = await api.send(KEYS, { method: 'POST', body: { key: '__thv_registry_y', value: 'hijack' } });
    for (const res of [update, remove, create]) {
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'bad_request' });
      expect((res.json as { message: string }).message).toContain('reserved for thv');
    }
    expect(await store.get('__thv_registry_x')).toBe('internal-refresh-token');
    expect(await store.get('__thv_registry_y')).toBeUndefined();
    expectNoValue([listed, update, remove, create], api, 'internal-refresh-token');
    await scopedSecrets(store, 'registry').delete('x');
  });

  it('a name with a slash works when URL-encoded; unknown body keys and empty values are refused', async () => {
    expect((await api.send(KEYS, { method: 'POST', body: { key: 'team/token', value: 'slash-value' } })).status).toBe(201);
    expect((await api.send(`${KEYS}/team%2Ftoken`, { method: 'PUT', body: { value: 'slash-value-2' } })).status).toBe(200);
    expect(await store.get('team/token')).toBe('slash-value-2');
    expect((await api.send(`${KEYS}/team%2Ftoken`, { method: 'PUT', body: { value: '' } })).status).toBe(400);
    expect((await api.send(`${KEYS}/team%2Ftoken`, { method: 'PUT', body: { value: 'v', key: 'other' } })).status).toBe(400);
    expect((await api.send(KEYS, { method: 'POST', body: { key: 'has space', value: 'v' } })).status).toBe(400);
    expect((await api.send(`${KEYS}/team%2Ftoken`, { method: 'DELETE' })).status).toBe(204);
  });

  it('follows `thv secret setup --provider environment` in a terminal without a restart', async () => {
    const setup = await runThv(['secret', 'setup', '--provider', 'environment'], home, { env: WITH_PASSWORD });
    expect(setup.code, setup.stderr).toBe(0);
    try {
      expect((await api.send(S)).json).toMatchObject({ provider_type: 'environment', capabilities: { can_write: false } });
    } finally {
      expect((await runThv(['secret', 'setup', '--provider', 'encrypted'], home, { env: WITH_PASSWORD })).code).toBe(0);
    }
    expect((await api.send(S)).json).toMatchObject({ provider_type: 'encrypted' });
  });
});

describe('secrets routes without a usable password', () => {
  let home: TempHome;
  beforeAll(async () => {
    home = await makeTempHome();
    await (await storeIn(home)).set('EXISTING', 'existing-value');
  });
  afterAll(async () => {
    await home.cleanup();
  });

  it('with no keyring and no TOOLHIVE_SECRETS_PASSWORD, key routes answer 503 secrets_unavailable at once and say what to set', async () => {
    const api = await startTestApi({ home });
    try {
      const info = await api.send(S);
      expect(info.status).toBe(200);
      // Each answer comes without waiting for a prompt nobody can answer (a hang fails the test's timeout).
      const results = [
        await api.send(KEYS),
        await api.send(KEYS, { method: 'POST', body: { key: 'NEW', value: 'new-value' } }),
        await api.send(`${KEYS}/EXISTING`, { method: 'PUT', body: { value: 'new-value' } }),
        await api.send(`${KEYS}/EXISTING`, { method: 'DELETE' }),
      ];
      for (const res of results) {
        expect(res.status).toBe(503);
        expect(res.json).toMatchObject({ code: 'secrets_unavailable' });
        expect((res.json as { message: string }).message).toContain('TOOLHIVE_SECRETS_PASSWORD');
      }
      expectNoValue(results, api, 'existing-value');
    } finally {
      await api.close();
    }
  });

  it('a wrong password answers 503 secrets_locked and changes nothing', async () => {
    const api = await startTestApi({ home, env: { TOOLHIVE_SECRETS_PASSWORD: 'not-the-password' } });
    try {
      const results = [await api.send(KEYS), await api.send(`${KEYS}/EXISTING`, { method: 'DELETE' })];
      for (const res of results) {
        expect(res.status).toBe(503);
        expect(res.json).toMatchObject({ code: 'secrets_locked' });
      }
    } finally {
      await api.close();
    }
    expect(await new EncryptedSecretsProvider({ file: resolvePaths(home.env).secretsFile, password: async () => PASSWORD }).get('EXISTING')).toBe('existing-value');
  });
});

describe('secrets routes on the environment provider', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({
      env: { TOOLHIVE_SECRETS_PROVIDER: 'environment', TOOLHIVE_SECRET_GITHUB_TOKEN: 'env-token-value', TOOLHIVE_SECRET_API_KEY: 'env-key-value' },
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it('lists the TOOLHIVE_SECRET_* names and reports itself read-only', async () => {
    const info = await api.send(S);
    expect(info.json).toEqual({
      name: 'default',
      provider_type: 'environment',
      capabilities: { can_read: true, can_write: false, can_delete: false, can_list: true },
    });
    const listed = await api.send(KEYS);
    expect(listed.json).toEqual({ keys: [{ key: 'API_KEY' }, { key: 'GITHUB_TOKEN' }] });
    expectNoValue([info, listed], api, 'env-token-value', 'env-key-value');
  });

  it('refuses every write with 400 and says to change the environment', async () => {
    const results = [
      await api.send(KEYS, { method: 'POST', body: { key: 'NEW', value: 'new-value' } }),
      await api.send(`${KEYS}/GITHUB_TOKEN`, { method: 'PUT', body: { value: 'new-value' } }),
      await api.send(`${KEYS}/GITHUB_TOKEN`, { method: 'DELETE' }),
    ];
    for (const res of results) {
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'bad_request' });
      expect((res.json as { message: string }).message).toMatch(/read-only.*TOOLHIVE_SECRET_/);
    }
    expectNoValue(results, api, 'env-token-value');
  });
});

describe('POST /secrets: provider setup, as ToolHive Studio calls it', () => {
  const SETUP = '/api/v1beta/secrets';

  it('with no password source it is 503 secrets_unavailable and creates nothing; with one it creates the store, which then works', async () => {
    const home = await makeTempHome();
    const paths = resolvePaths(home.env);
    const bare = await startTestApi({ home });
    try {
      const refused = await bare.send(SETUP, { method: 'POST', body: { provider_type: 'encrypted' } });
      expect(refused.status).toBe(503);
      expect(refused.json).toMatchObject({ code: 'secrets_unavailable' });
      await expect(access(paths.secretsFile)).rejects.toThrow();
      await expect(access(paths.configFile)).rejects.toThrow();
    } finally {
      await bare.close();
    }
    const api = await startTestApi({ home, env: WITH_PASSWORD });
    try {
      const res = await api.send(SETUP, { method: 'POST', body: { provider_type: 'encrypted' } });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ provider_type: 'encrypted', message: expect.stringContaining('new, empty encrypted store') });
      await access(paths.secretsFile);
      expect(await readFile(paths.configFile, 'utf8')).toMatch(/provider_type: encrypted/);
      expect((await api.send(KEYS, { method: 'POST', body: { key: 'K', value: 'v-after-setup' } })).status).toBe(201);
      // Again: the existing store opens with the password, and keeps its secrets.
      const again = await api.send(SETUP, { method: 'POST', body: {} });
      expect(again.status).toBe(201);
      expect(again.json).toMatchObject({ message: expect.stringContaining('existing encrypted store opens') });
      expect((await api.send(KEYS)).json).toEqual({ keys: [{ key: 'K' }] });
    } finally {
      await api.close();
      await home.cleanup();
    }
  });

  it('a password in the body opens an existing store; a wrong one is 503 secrets_locked, never echoed, and the store is untouched', async () => {
    const home = await makeTempHome();
    const store = await storeIn(home);
    await store.set('KEEP', 'kept-value');
    const before = await readFile(resolvePaths(home.env).secretsFile);
    const api = await startTestApi({ home });
    try {
      const wrong = await api.send(SETUP, { method: 'POST', body: { provider_type: 'encrypted', password: 'not-the-password-xyz' } });
      expect(wrong.status).toBe(503);
      expect(wrong.json).toMatchObject({ code: 'secrets_locked' });
      expectNoValue([wrong], api, 'not-the-password-xyz');
      expect(await readFile(resolvePaths(home.env).secretsFile)).toEqual(before);
      const right = await api.send(SETUP, { method: 'POST', body: { provider_type: 'encrypted', password: PASSWORD } });
      expect(right.status).toBe(201);
      expect(right.json).toMatchObject({ provider_type: 'encrypted', message: expect.stringContaining('TOOLHIVE_SECRETS_PASSWORD') });
      expectNoValue([right], api, PASSWORD);
    } finally {
      await api.close();
      await home.cleanup();
    }
  });

  it('environment is recorded and served at once; an unknown provider or a wrong type is 400', async () => {
    const api = await startTestApi({ env: { TOOLHIVE_SECRET_FROM_ENV: 'x' } });
    try {
      for (const body of [{ provider_type: '1password' }, { provider_type: 1 }, { provider_type: 'encrypted', extra: true }]) {
        const res = await api.send(SETUP, { method: 'POST', body });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.json).toMatchObject({ code: 'bad_request' });
      }
      const res = await api.send(SETUP, { method: 'POST', body: { provider_type: 'environment' } });
      expect(res.status).toBe(201);
      expect(res.json).toEqual({ provider_type: 'environment', message: 'secrets provider set to environment' });
      expect((await api.send(S)).json).toMatchObject({ provider_type: 'environment' });
      expect((await api.send(KEYS)).json).toEqual({ keys: [{ key: 'FROM_ENV' }] });
    } finally {
      await api.close();
    }
  });

  it('without a password, a new store gets a random one only where the keyring keeps it (Studio\'s first start)', async () => {
    const dirs = await makeTempHome();
    try {
      const kept: string[] = [];
      const keyring = { read: async () => kept[0], write: async (p: string) => (kept.push(p), true) };
      const result = await setupSecrets({ paths: resolvePaths(dirs.env), env: dirs.env, providerType: 'encrypted', interactive: false, generateIfKeyring: true, keyring, kdf: CHEAP_KDF });
      expect(result).toMatchObject({ created: true, passwordInKeyring: true });
      expect(kept).toHaveLength(1);
      expect(kept[0]!.length).toBeGreaterThanOrEqual(40);
      const reopened = new EncryptedSecretsProvider({ file: resolvePaths(dirs.env).secretsFile, password: async () => kept[0]! });
      await expect(reopened.list()).resolves.toEqual([]);
      // A second setup finds the password in the keyring and keeps the store.
      await expect(setupSecrets({ paths: resolvePaths(dirs.env), env: dirs.env, providerType: 'encrypted', interactive: false, generateIfKeyring: true, keyring })).resolves.toMatchObject({ created: false });
      expect(kept).toHaveLength(1);
    } finally {
      await dirs.cleanup();
    }
  });
});
