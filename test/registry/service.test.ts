import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { RegistryService } from '../../src/registry/service.js';
import { resolvePaths } from '../../src/core/paths.js';
import { makeTempHome, type TempHome } from '../fixtures/cli.js';
import { makeServers, startRegistryServer, type RegistryServer } from '../fixtures/registry-server.js';

let home: TempHome;
let registry: RegistryServer;
beforeAll(async () => {
  registry = await startRegistryServer({ servers: makeServers(3) });
});
afterAll(() => registry.close());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(() => home.cleanup());

const OAUTH = { type: 'oauth' as const, oauth: { issuer: 'https://idp.example.com', client_id: 'thv', scopes: ['openid', 'offline_access'] } };

describe('registry settings', () => {
  const service = () => new RegistryService({ paths: resolvePaths(home.env), env: home.env, interactive: false });

  it('setting the same registry again keeps its authentication settings', async () => {
    const s = service();
    await s.configStore.update(() => ({ registry_api_url: registry.url, allow_private_registry_ip: true, registry_auth: OAUTH }));
    await s.setRegistry({ location: registry.url, allowPrivateIp: true });
    expect((await s.configStore.load()).registry_auth).toEqual(OAUTH);
  });

  it('moving to another registry drops the old one\'s authentication, so its credentials never go to another host', async () => {
    const s = service();
    await s.configStore.update(() => ({ registry_api_url: 'https://old-registry.example.com', registry_auth: OAUTH }));
    await s.setRegistry({ location: registry.url, allowPrivateIp: true });
    const config = await s.configStore.load();
    expect(config.registry_api_url).toBe(registry.url);
    expect(config.registry_auth).toBeUndefined();
    expect((await s.info()).auth_status).toBe('none');
  });

  it('a local file never carries registry authentication', async () => {
    const s = service();
    await s.configStore.update(() => ({ registry_api_url: registry.url, allow_private_registry_ip: true, registry_auth: OAUTH }));
    await s.setRegistry({ location: join(import.meta.dirname, '../fixtures/registry/example-registry.json') });
    expect((await s.configStore.load()).registry_auth).toBeUndefined();
  });
});
