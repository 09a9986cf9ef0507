import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../fixtures/manual-clock.js';
import { createLogger } from '../../../src/core/log.js';
import { createOAuthCredentials, type OAuthCredentials } from '../../../src/auth/remote/index.js';
import { parseRemoteAuthState } from '../../../src/auth/remote/state.js';
import { startTestIdp, type TestIdp } from '../../fixtures/idp.js';
import { startTokenFaultProxy, type TokenFaultProxy } from '../../fixtures/token-fault-proxy.js';
import { startTokenCheckingMcp, type TokenCheckingMcp } from '../../fixtures/token-checking-mcp.js';
import { followLogin } from '../../fixtures/test-browser.mjs';
import { freePort } from '../../fixtures/ports.js';
import { waitFor } from '../../workloads/helpers.js';
import { LOGIN_REQUIRED_CONTEXT } from '../../../src/workloads/types.js';

/**
 * Issue 14: ToolHive users saw 401 after about an hour (the IdP ended the session, so the refresh
 * token died) and a restart did not recover. The hour passes on the injectable clock; the IdP, the
 * MCP server and the login are real (docs/remote-auth.md#after-a-refresh-token-dies).
 */
let idp: TestIdp;
let as: TokenFaultProxy;
let mcp: TokenCheckingMcp;
let stored: string | undefined;
let logins: number;
let statuses: Array<[string, string]>;
const open: OAuthCredentials[] = [];

beforeEach(async () => {
  stored = undefined;
  logins = 0;
  statuses = [];
  mcp = await startTokenCheckingMcp({ isValid: async (t) => Boolean(await idp.findAccessToken(t)), scopesSupported: ['mcp:tools'] });
  idp = await startTestIdp({ registration: true, accessTokenTtl: 3600, resources: { [mcp.url]: { scope: 'mcp:tools' } } });
  as = await startTokenFaultProxy(idp.issuer);
  mcp.authorizationServer = as.issuer;
});

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  await mcp.close();
  await as.close();
  await idp.close();
});

/** One supervisor start: the credentials of a workload, resumed from `stored` or logged in through the (test) browser. */
function start(clock: ManualClock, callbackPort: number): OAuthCredentials {
  const c = createOAuthCredentials({
    workload: 'remote1',
    serverUrl: mcp.url,
    settings: { callbackPort, timeoutMs: 20_000 },
    stored,
    save: async (raw) => void (stored = raw),
    opener: async (url) => {
      logins++;
      void followLogin(url);
    },
    onStatus: (status, context) => void statuses.push([status, context]),
    clock,
    log: createLogger({ level: 'silent', write: () => undefined }),
  });
  open.push(c);
  c.start();
  return c;
}

async function callMcp(c: OAuthCredentials): Promise<number> {
  const res = await fetch(mcp.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(await c.headers()) }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
  await res.arrayBuffer();
  return res.status;
}

describe('a refresh token that died', () => {
  it('an hour later the refresh is refused → unauthenticated; the next start logs in afresh and never sends the dead token again', async () => {
    const clock = new ManualClock(Date.now());
    const port = await freePort();
    const first = start(clock, port);
    await first.ready;
    expect(logins).toBe(1);
    expect(await callMcp(first)).toBe(200);

    // The IdP ends the session; an hour later the monitor's refresh before expiry is refused.
    await idp.revokeAllGrants();
    await clock.untilSleeping();
    await clock.advance(3600_000);
    await waitFor('unauthenticated', () => statuses.some(([s, ctx]) => s === 'unauthenticated' && ctx.includes('invalid_grant')));
    expect(idp.counts.refreshGrantErrors).toBe(1);
    await expect(first.headers()).rejects.toThrow(/Restart the workload|invalid_grant/);
    // The dead tokens are gone from the store; the registered client stays for the next login.
    const forgotten = parseRemoteAuthState(stored)!;
    expect(forgotten).toMatchObject({ dynamic_client: true, issuer: as.issuer });
    expect(forgotten.access_token).toBeUndefined();
    expect(forgotten.refresh_token).toBeUndefined();
    await first.close();

    // The restart: a login at once (its URL in the status), no refresh with the dead token.
    statuses = [];
    const second = start(clock, port);
    await second.ready;
    expect(statuses[0]?.[0]).toBe('unauthenticated');
    expect(statuses[0]?.[1].startsWith(LOGIN_REQUIRED_CONTEXT)).toBe(true);
    expect(statuses.at(-1)).toEqual(['running', '']);
    expect(logins).toBe(2);
    expect(idp.counts.refreshGrantErrors).toBe(1);
    expect(idp.counts.refreshGrants).toBe(1);
    expect(await callMcp(second)).toBe(200);
    expect(parseRemoteAuthState(stored)!.refresh_token).toBeTruthy();
  });
});
