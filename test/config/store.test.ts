import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore } from '../../src/config/store.js';
import { ThvError } from '../../src/core/errors.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'thv-config-'));
  file = join(dir, 'toolhive', 'config.yaml');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('config store', () => {
  it('a missing file is an empty config', async () => {
    expect(await new ConfigStore(file).load()).toEqual({});
  });

  it('an administrator-provided file with issuer and client id but no tokens loads, and unknown keys survive an update', async () => {
    await mkdir(join(dir, 'toolhive'));
    await writeFile(
      file,
      [
        'registry_api_url: https://registry.example.com',
        'registry_auth:',
        '  type: oauth',
        '  oauth:',
        '    issuer: https://idp.example.com',
        '    client_id: thv',
        'some_toolhive_key: {nested: true}',
        '',
      ].join('\n'),
    );
    const store = new ConfigStore(file);
    expect((await store.load()).registry_auth?.oauth?.client_id).toBe('thv');
    await store.update((c) => {
      c.allow_private_registry_ip = true;
    });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('some_toolhive_key');
    expect(text).toContain('client_id: thv');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('invalid YAML names the file and line, and an update refuses to overwrite it', async () => {
    const store = new ConfigStore(file);
    await store.update(() => ({ registry_url: 'https://a.example/r.json' }));
    await writeFile(file, 'registry_url: https://a.example\n  bad: [\n');
    const err = (await store.load().catch((e: unknown) => e)) as ThvError;
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/line \d+/);
    await expect(store.update((c) => void (c.registry_url = 'x'))).rejects.toMatchObject({ code: 'config_invalid' });
    expect(await readFile(file, 'utf8')).toBe('registry_url: https://a.example\n  bad: [\n');
  });

  it('a wrongly typed nested key is named by its path', async () => {
    await mkdir(join(dir, 'toolhive'));
    await writeFile(file, 'registry_auth:\n  oauth:\n    callback_port: "eighty"\n');
    await expect(new ConfigStore(file).load()).rejects.toThrow(/key `registry_auth\.oauth\.callback_port`/);
  });

  it('concurrent read-modify-write cycles lose no update', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `client-${i}`);
    // separate store objects, as separate processes would have
    await Promise.all(
      names.map((name) =>
        new ConfigStore(file).update((c) => {
          c.clients = { registered_clients: [...(c.clients?.registered_clients ?? []), name] };
        }),
      ),
    );
    const registered = (await new ConfigStore(file).load()).clients?.registered_clients ?? [];
    expect([...registered].sort()).toEqual([...names].sort());
  });
});
