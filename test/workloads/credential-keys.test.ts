import { describe, expect, it } from 'vitest';
import { remoteAuthStateKey } from '../../src/auth/remote/state.js';
import { buildRunConfig } from '../../src/workloads/run-request.js';
import type { ResolvedSource } from '../../src/workloads/sources.js';

const remote: ResolvedSource = { source: { kind: 'remote', ref: 'https://mcp.example/mcp' }, args: [], remoteUrl: 'https://mcp.example/mcp', transport: 'streamable-http', headers: {}, suggestedName: 'x' };

function keysOf(name: string, req: Parameters<typeof buildRunConfig>[0]): string[] {
  const { credentials } = buildRunConfig(req, remote, { name, group: 'default', createdAt: 'now' }, []);
  return [...credentials.map((c) => c.key), remoteAuthStateKey(name)];
}

describe('secrets-store keys of workload credentials (issue 14: credentials collide)', () => {
  it('workload "a" with B-Header-Authorization and workload "a_HEADER_B" with Authorization get different keys', () => {
    const a = keysOf('a', { headers: { 'B-Header-Authorization': 'token-of-a' } });
    const b = keysOf('a_HEADER_B', { headers: { Authorization: 'token-of-b' } });
    expect(a.filter((k) => b.includes(k))).toEqual([]);
  });

  it('no header key of one workload equals the client secret, bearer token or OAuth key of another', () => {
    const a = keysOf('a', { headers: { 'X-Client-Secret': 's', 'X-Bearer-Token': 't', 'X-OAuth': 'o' } });
    const b = keysOf('a_HEADER_X', { headers: {}, remoteAuth: { clientId: 'c', clientSecret: 's2', bearerToken: 't2' } });
    expect(b).toHaveLength(3);
    expect(a.filter((k) => b.includes(k))).toEqual([]);
  });

  it('keys stay readable: they name the workload and the header', () => {
    expect(keysOf('a', { headers: { Authorization: 'x' } })[0]).toBe('WORKLOAD_a:HEADER:Authorization');
  });
});

describe('credentials over plain http (issue 14)', () => {
  const at = (url: string): ResolvedSource => ({ ...remote, remoteUrl: url });
  const build = (url: string, req: Parameters<typeof buildRunConfig>[0]) => () => buildRunConfig(req, at(url), { name: 'w', group: 'default', createdAt: 'now' }, []);

  it('are refused for a non-loopback host unless allowInsecureHttp is set', () => {
    expect(build('http://192.0.2.1/mcp', { headers: { Authorization: 'Bearer x' } })).toThrow(/plain http/);
    expect(build('http://mcp.example/mcp', { remoteAuth: { bearerTokenFile: '/t' } })).toThrow(expect.objectContaining({ hint: expect.stringContaining('--allow-insecure-http') }));
    expect(build('http://192.0.2.1/mcp', { headers: { Authorization: 'Bearer x' }, allowInsecureHttp: true })).not.toThrow();
  });

  it('are accepted for loopback hosts and https, and plain http without credentials is unchanged', () => {
    for (const url of ['http://127.0.0.1:8080/mcp', 'http://localhost/mcp', 'http://[::1]:9/mcp', 'https://mcp.example/mcp']) {
      expect(build(url, { headers: { Authorization: 'Bearer x' } })).not.toThrow();
    }
    expect(build('http://192.0.2.1/mcp', { headers: { 'X-Trace': '1' } })).not.toThrow();
  });
});
