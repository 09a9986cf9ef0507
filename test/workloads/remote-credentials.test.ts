import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteCredentials, type RemoteCredentialsDeps } from '../../src/workloads/remote-credentials.js';
import { resolvePaths } from '../../src/core/paths.js';
import { createLogger } from '../../src/core/log.js';
import { systemClock } from '../../src/core/clock.js';
import { workloadUrl, type RunConfig } from '../../src/workloads/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'thv-cred-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const base: RunConfig = {
  schema_version: 1,
  name: 'remote',
  group: 'default',
  source: { kind: 'remote', ref: 'https://mcp.example.com/api/mcp?tenant=1' },
  args: [],
  remote_url: 'https://mcp.example.com/api/mcp?tenant=1',
  transport: 'streamable-http',
  proxy_mode: 'streamable-http',
  host: '127.0.0.1',
  port: 4321,
  port_fixed: false,
  env: {},
  secrets: [],
  headers: {},
  created_at: '2026-01-01T00:00:00.000Z',
  runtime: 'none',
};

function deps(values: Record<string, string> = {}): RemoteCredentialsDeps {
  return { paths: resolvePaths({ HOME: dir }), env: {}, clock: systemClock, log: createLogger({ level: 'silent' }), secretValues: values, onStatus: () => undefined };
}

describe('remote credentials', () => {
  it('none without remote_auth', async () => {
    expect(await createRemoteCredentials(base, deps())).toBeUndefined();
  });

  it('a bearer token from the secrets store becomes the Authorization header', async () => {
    const creds = await createRemoteCredentials({ ...base, remote_auth: { enabled: false, bearer_token_ref: 'WORKLOAD_remote_BEARER_TOKEN' } }, deps({ WORKLOAD_remote_BEARER_TOKEN: 't0k' }));
    expect(await creds!.headers()).toEqual({ authorization: 'Bearer t0k' });
  });

  it('a missing stored token is an auth error that does not print any token', async () => {
    await expect(createRemoteCredentials({ ...base, remote_auth: { enabled: false, bearer_token_ref: 'K' } }, deps())).rejects.toMatchObject({ code: 'auth_failed' });
  });

  it('a bearer token file is read, trimmed', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'from-file\n');
    const creds = await createRemoteCredentials({ ...base, remote_auth: { enabled: false, bearer_token_file: file } }, deps());
    expect(await creds!.headers()).toEqual({ authorization: 'Bearer from-file' });
  });
});

describe('the URL printed for clients', () => {
  it('keeps the remote path and query on the local port', () => {
    expect(workloadUrl(base)).toBe('http://127.0.0.1:4321/api/mcp?tenant=1');
  });

  it('is /mcp for a stdio server, or /sse#name when SSE was asked for', () => {
    const stdio: RunConfig = { ...base, remote_url: undefined, transport: 'stdio', command: 'node', name: 'echo' };
    expect(workloadUrl(stdio)).toBe('http://127.0.0.1:4321/mcp');
    expect(workloadUrl({ ...stdio, proxy_mode: 'sse' })).toBe('http://127.0.0.1:4321/sse#echo');
  });
});
