import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resolvePaths, type Paths } from '../../src/core/paths.js';
import { createAppServices } from '../../src/app/services.js';
import type { WorkloadManager } from '../../src/workloads/manager.js';
import { recordStateRef } from '../../src/workloads/remote-oauth.js';
import { openSecretsProvider, scopedSecrets } from '../../src/secrets/index.js';
import { ConfigStore } from '../../src/config/store.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { STDIO_FIXTURE } from './helpers.js';

let home: TempHome;
let paths: Paths;
let env: NodeJS.ProcessEnv;
let manager: WorkloadManager;

beforeEach(async () => {
  home = await makeTempHome();
  env = { ...home.env, TOOLHIVE_SECRETS_PASSWORD: 'a-test-password' };
  paths = resolvePaths(env);
  manager = await createAppServices({ paths, env, interactive: false }).workloads();
});
afterEach(() => home.cleanup());

async function workloadSecrets() {
  const config = await new ConfigStore(paths.configFile).load();
  return scopedSecrets(await openSecretsProvider({ paths, env, config, interactive: false }), 'workloads');
}

async function storedKeys(): Promise<string[]> {
  return (await workloadSecrets()).list().catch(() => []);
}

async function storedValue(key: string): Promise<string | undefined> {
  return (await workloadSecrets()).get(key);
}

/** Every file under the temporary home, as text. */
async function allFiles(dir = home.root): Promise<Array<{ file: string; text: string }>> {
  const out: Array<{ file: string; text: string }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(file)));
    else out.push({ file, text: await readFile(file, 'utf8') });
  }
  return out;
}

describe('--remote-header values', () => {
  it('a value with a control character is a bad_request at create time and leaves nothing behind', async () => {
    const err = await manager.create({ target: 'http://127.0.0.1:9/mcp', name: 'ctl', headers: { 'X-A': 'a\u0001b' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_request', message: expect.stringContaining('header "X-A"') });
    expect((err as Error).message).not.toContain('a\u0001b');
    expect(await manager.runConfigs.read('ctl')).toBeUndefined();
  });

  it('a name that is not a header token is a bad_request', async () => {
    const err = await manager.create({ target: 'http://127.0.0.1:9/mcp', name: 'bad-name', headers: { 'X(A)': 'v' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_request', message: expect.stringContaining('not a valid header name') });
  });

  it('credential headers go to the secrets store; no file but the encrypted store holds their values', async () => {
    const config = await manager.create({
      target: 'http://127.0.0.1:9/mcp',
      name: 'hdr',
      headers: { Authorization: 'Bearer hdr-secret-1', 'X-Api-Key': 'hdr-secret-2', Cookie: 'sid=hdr-secret-3', 'X-Tenant': 'acme' },
    });
    expect(config.headers).toEqual({ 'X-Tenant': 'acme' });
    expect(Object.keys(config.header_refs ?? {}).sort()).toEqual(['Authorization', 'Cookie', 'X-Api-Key']);
    expect(await storedValue(config.header_refs!.Authorization!)).toBe('Bearer hdr-secret-1');
    for (const { file, text } of await allFiles()) {
      for (const secret of ['hdr-secret-1', 'hdr-secret-2', 'hdr-secret-3']) expect(text, file).not.toContain(secret);
    }
    expect((await manager.runConfigs.get('hdr')).header_refs).toEqual(config.header_refs);

    await manager.remove('hdr');
    expect(await storedKeys()).toEqual([]);
  });
});

describe('credentials stored for a workload that is not created', () => {
  it('a bearer token for a stdio workload is refused before it is stored', async () => {
    const err = await manager.run({ command: ['node', STDIO_FIXTURE], name: 'local', remoteAuth: { bearerToken: 'never-stored' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_request' });
    expect(await storedKeys()).toEqual([]);
  });

  it('a run that fails before a supervisor started removes the credentials it stored', async () => {
    const err = await manager
      .run({ target: 'http://127.0.0.1:9/mcp', name: 'remote', secrets: [{ name: 'MISSING', target: 'X' }], headers: { 'X-Token': 't1' }, remoteAuth: { bearerToken: 'b1', clientId: 'c', clientSecret: 's1' } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'not_found', message: expect.stringContaining('MISSING') });
    expect(await manager.runConfigs.read('remote')).toBeUndefined();
    expect(await storedKeys()).toEqual([]);
  });
});

describe('run config updates', () => {
  it('moving a workload to a group and recording its OAuth session key at the same time keep both changes', async () => {
    await manager.groups.create('other');
    for (let i = 0; i < 5; i++) {
      const name = `both-${i}`;
      await manager.create({ target: 'http://127.0.0.1:9/mcp', name, remoteAuth: { enabled: true } });
      await Promise.all([manager.moveToGroup(name, 'other'), recordStateRef(name, `WORKLOAD_${name}_OAUTH`, { paths })]);
      const config = await manager.runConfigs.get(name);
      expect(config.group).toBe('other');
      expect(config.remote_auth?.oauth_state_ref).toBe(`WORKLOAD_${name}_OAUTH`);
    }
  });
});
