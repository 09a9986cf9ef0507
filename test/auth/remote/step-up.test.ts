import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/core/log.js';
import { HttpProxy } from '../../../src/transport/http-proxy.js';
import type { OAuthCredentials } from '../../../src/auth/remote/index.js';
import { freePort } from '../../fixtures/ports.js';
import { RemoteAuthHarness } from './harness.js';

let h: RemoteAuthHarness;
let proxyServer: Server | undefined;

afterEach(async () => {
  if (proxyServer) await new Promise<void>((resolve) => proxyServer!.close(() => resolve()));
  proxyServer = undefined;
  await h?.close();
});

/**
 * The MCP server needs `mcp:admin` for the `admin` tool. `grants` is what the authorization server
 * will put in a token for that resource: with `mcp:admin`, a step-up can succeed; without, it cannot.
 */
async function setUp(grants: string): Promise<RemoteAuthHarness> {
  // The server knows mcp:admin either way; it grants it for the MCP server only when `grants` says so.
  h = await new RemoteAuthHarness().start({ mcp: { toolScopes: { admin: 'mcp:admin' } }, resourceScope: grants, idp: { registration: true, extraScopes: ['mcp:admin'] } });
  return h;
}

const ADMIN = { name: 'admin', arguments: {} };

/** The workload's remote proxy (src/transport/http-proxy.ts) with the OAuth credentials, on 127.0.0.1. */
async function proxyFor(c: OAuthCredentials): Promise<string> {
  const proxy = new HttpProxy({ target: h.mcp.url, credentials: c, log: createLogger({ level: 'silent' }) });
  proxyServer = createServer((req, res) => void proxy.handle(req, res));
  await new Promise<void>((resolve) => proxyServer!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(proxyServer.address() as AddressInfo).port}/mcp`;
}

async function callThrough(url: string, params: Record<string, unknown>): Promise<{ status: number; body: { error?: { message: string }; result?: unknown } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params }),
  });
  return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
}

describe('step-up authorization (403 insufficient_scope)', () => {
  it('re-authorizes once with the union of the granted and requested scopes, then the call succeeds', async () => {
    await setUp('mcp:tools mcp:admin');
    const c = await h.started(await freePort());
    const first = await h.call(c, 'tools/call', ADMIN);
    expect(first.status).toBe(403);
    expect(await c.stepUpAfterForbidden(first.challenge)).toBe(true);
    expect(h.opened).toHaveLength(2);
    expect(new URL(h.opened[1]!).searchParams.get('scope')!.split(' ').sort()).toEqual(['mcp:admin', 'mcp:tools']);
    expect(await h.call(c, 'tools/call', ADMIN)).toMatchObject({ status: 200 });
    expect(await h.call(c)).toMatchObject({ status: 200 });
    expect(h.state.scopes.sort()).toEqual(['mcp:admin', 'mcp:tools']);
    expect(h.statuses.at(-1)).toEqual(['running', '']);
  });

  it('a second 403 for scopes already asked for fails clearly, without another login', async () => {
    await setUp('mcp:tools');
    const c = await h.started(await freePort());
    const first = await h.call(c, 'tools/call', ADMIN);
    expect(await c.stepUpAfterForbidden(first.challenge)).toBe(true);
    const again = await h.call(c, 'tools/call', ADMIN);
    expect(again.status).toBe(403);
    await expect(c.stepUpAfterForbidden(again.challenge)).rejects.toThrow(/still answers insufficient_scope for "mcp:admin", which thv already asked .* for; not authorizing again/);
    await expect(c.stepUpAfterForbidden(again.challenge)).rejects.toMatchObject({ code: 'auth_failed' });
    expect(h.opened).toHaveLength(2);
    // The session itself goes on.
    expect(await h.call(c)).toMatchObject({ status: 200 });
  });

  it('other 403s and 401 challenges are not a step-up', async () => {
    await setUp('mcp:tools mcp:admin');
    const c = await h.started(await freePort());
    expect(await c.stepUpAfterForbidden('Bearer error="invalid_token"')).toBe(false);
    expect(await c.stepUpAfterForbidden('Bearer error="insufficient_scope"')).toBe(false);
    expect(h.opened).toHaveLength(1);
  });

  it('through the remote proxy: the 403 is answered by one re-authorization and a replay, concurrent callers share it', async () => {
    await setUp('mcp:tools mcp:admin');
    const c = await h.started(await freePort());
    const url = await proxyFor(c);
    const [a, b] = await Promise.all([callThrough(url, ADMIN), callThrough(url, ADMIN)]);
    expect(a).toMatchObject({ status: 200, body: { result: { content: [expect.anything()] } } });
    expect(b.status).toBe(200);
    expect(h.opened).toHaveLength(2);
    expect(h.mcp.counts.insufficientScope).toBe(2);
  });

  it('through the remote proxy: when the server keeps refusing, the caller gets a 403 saying why, and no loop', async () => {
    await setUp('mcp:tools');
    const c = await h.started(await freePort());
    const url = await proxyFor(c);
    const first = await callThrough(url, ADMIN);
    // One re-authorization, one replay that is refused again: relayed, not retried.
    expect(first.status).toBe(403);
    expect(h.opened).toHaveLength(2);
    const second = await callThrough(url, ADMIN);
    expect(second.status).toBe(403);
    expect(second.body.error!.message).toMatch(/already asked the authorization server for; not authorizing again/);
    expect(h.opened).toHaveLength(2);
    expect(h.mcp.counts.insufficientScope).toBe(3);
    expect(await callThrough(url, { name: 'whoami', arguments: {} })).toMatchObject({ status: 200 });
  });
});
