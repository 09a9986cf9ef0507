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
