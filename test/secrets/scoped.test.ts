import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EncryptedSecretsProvider } from '../../src/secrets/encrypted.js';
import { scopedSecrets, userSecrets } from '../../src/secrets/scoped.js';
import { CHEAP_KDF, tempDirs } from './helpers.js';

const newDir = tempDirs();

async function store() {
  return new EncryptedSecretsProvider({ file: join(await newDir(), 'secrets_encrypted'), password: async () => 'pw', kdf: CHEAP_KDF });
}

describe('secret scopes', () => {
  it('stores thv-internal secrets as __thv_<scope>_<name>', async () => {
    const raw = await store();
    await scopedSecrets(raw, 'auth').set('REGISTRY_OAUTH_0123abcd', 'refresh-token');
    await scopedSecrets(raw, 'workloads').set('github', 'pat');
    expect(await raw.list()).toEqual(['__thv_auth_REGISTRY_OAUTH_0123abcd', '__thv_workloads_github']);
    expect(await scopedSecrets(raw, 'auth').list()).toEqual(['REGISTRY_OAUTH_0123abcd']);
    expect(await scopedSecrets(raw, 'registry').list()).toEqual([]);
    expect(await scopedSecrets(raw, 'workloads').get('REGISTRY_OAUTH_0123abcd')).toBeUndefined();
  });

  it("keeps thv's own secrets out of the user's list and out of reach", async () => {
    const raw = await store();
    await raw.set('__thv_auth_REGISTRY_OAUTH_0123abcd', 'refresh-token');
    await raw.set('MY_TOKEN', 'mine');
    const user = userSecrets(raw);
    expect(await user.list()).toEqual(['MY_TOKEN']);
    for (const attempt of [() => user.get('__thv_auth_REGISTRY_OAUTH_0123abcd'), () => user.set('__thv_auth_x', 'v'), () => user.delete('__thv_auth_REGISTRY_OAUTH_0123abcd')]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/reserved for thv/) });
    }
    expect(await raw.get('__thv_auth_REGISTRY_OAUTH_0123abcd')).toBe('refresh-token');
  });

  it('passes the type, capabilities and unlock of the provider through', async () => {
    const raw = await store();
    for (const view of [userSecrets(raw), scopedSecrets(raw, 'auth')]) {
      expect(view.type).toBe('encrypted');
      expect(view.capabilities).toEqual(raw.capabilities);
      expect(typeof view.unlock).toBe('function');
    }
  });
});
