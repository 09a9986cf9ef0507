import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePaths, type Paths } from '../../src/core/paths.js';
import { RunConfigStore } from '../../src/workloads/run-config-store.js';

let root: string;
let paths: Paths;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'thv-rc-'));
  paths = resolvePaths({ HOME: root });
  await mkdir(paths.runConfigsDir, { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const minimal = { schema_version: 1, name: 'w', group: 'default', source: { kind: 'command', ref: 'x' }, command: 'node', transport: 'stdio', host: '127.0.0.1', created_at: 'now' };

describe('run configs', () => {
  it('fills defaults for optional fields and keeps unknown remote_auth fields', async () => {
    await writeFile(join(paths.runConfigsDir, 'w.json'), JSON.stringify({ ...minimal, remote_auth: { issuer: 'https://idp', future_field: 1 } }));
    const config = await new RunConfigStore(paths).get('w');
    expect(config).toMatchObject({ args: [], env: {}, secrets: [], headers: {}, proxy_mode: 'streamable-http', port_fixed: false });
    expect(config.remote_auth).toEqual({ issuer: 'https://idp', future_field: 1, enabled: false });
  });

  it.each([
    ['not JSON', '{', /is not valid JSON/],
    ['a bad transport', JSON.stringify({ ...minimal, transport: 'carrier-pigeon' }), /: transport: expected stdio, sse or streamable-http/],
    ['a bad port', JSON.stringify({ ...minimal, port: 70000 }), /: port: expected a port number/],
    ['neither command nor URL', JSON.stringify({ ...minimal, command: undefined }), /a command, an image or a remote_url is required/],
    ['env values that are not strings', JSON.stringify({ ...minimal, env: { A: 1 } }), /: env: expected an object of strings/],
  ])('%s is a config_invalid error naming the file and the key', async (_what, text, message) => {
    await writeFile(join(paths.runConfigsDir, 'w.json'), text);
    const err = await new RunConfigStore(paths).get('w').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'config_invalid', message: expect.stringMatching(message) });
    expect((err as Error).message).toContain(join(paths.runConfigsDir, 'w.json'));
  });

  it('takes isolation as an alias of runtime; a run config without either is a host process', async () => {
    await writeFile(join(paths.runConfigsDir, 'w.json'), JSON.stringify({ ...minimal, isolation: 'none' }));
    expect((await new RunConfigStore(paths).get('w')).runtime).toBe('none');
    await writeFile(join(paths.runConfigsDir, 'w.json'), JSON.stringify({ ...minimal, runtime: 'sandbox' }));
    expect((await new RunConfigStore(paths).get('w')).runtime).toBe('sandbox');
    await writeFile(join(paths.runConfigsDir, 'w.json'), JSON.stringify({ ...minimal, runtime: 'sandbox', isolation: 'none' }));
    await expect(new RunConfigStore(paths).get('w')).rejects.toThrow(/isolation: contradicts runtime/);
  });

  it('a missing one is not_found', async () => {
    await expect(new RunConfigStore(paths).get('nope')).rejects.toMatchObject({ code: 'not_found' });
  });
});
