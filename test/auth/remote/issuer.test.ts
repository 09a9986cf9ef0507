import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../fixtures/ports.js';
import { RemoteAuthHarness } from './harness.js';

let h: RemoteAuthHarness;

afterEach(async () => {
  await h?.close();
});

describe('RFC 9207: the authorization response names its issuer', () => {
  it('a response naming another issuer (a mix-up) is refused before the code is exchanged', async () => {
    h = await new RemoteAuthHarness().start();
    h.as.iss = 'upstream';
    const c = h.credentials(await freePort());
    c.start();
    const err = await c.ready.catch((e: unknown) => e);
    expect((err as Error).message).toContain(`names issuer "${h.idp.issuer}", not "${h.as.issuer}" (RFC 9207)`);
    expect(h.idp.counts.authorizationCodeGrants).toBe(0);
    expect(h.statuses.at(-1)).toEqual(['unauthenticated', expect.stringContaining('RFC 9207')]);
  });

  it('a response without iss is refused when the server advertises authorization_response_iss_parameter_supported', async () => {
    h = await new RemoteAuthHarness().start();
    h.as.iss = 'drop';
    const c = h.credentials(await freePort());
    c.start();
    await expect(c.ready).rejects.toThrow(/carries no iss parameter although .* says it always sends one/);
    expect(h.idp.counts.authorizationCodeGrants).toBe(0);
  });
});

describe('client credentials are kept per issuer', () => {
  it('a server that moves to another authorization server gets a client registered there; moving back reuses the first', async () => {
    h = await new RemoteAuthHarness().start();
    const port = await freePort();
    await h.started(port);
    const first = h.state.client_id;
    expect(h.idp.counts.registrations).toBe(1);

    // The MCP server now names another authorization server; the stored session is refused.
    const b = await h.addAuthServer();
    h.mcp.authorizationServer = b.as.issuer;
    await h.idp.revokeAllGrants();
    h.stored = JSON.stringify({ ...h.state, expires_at: 1 });
    const atB = await h.started(port);
    expect(b.idp.counts.registrations).toBe(1);
    const second = h.state.client_id;
    expect(second).not.toBe(first);
    // A's client id never went to B.
    expect(new URL(h.opened[1]!).origin).toBe(b.as.issuer);
    expect(new URL(h.opened[1]!).searchParams.get('client_id')).toBe(second);
    expect(await h.call(atB)).toMatchObject({ status: 200 });
    expect(Object.keys(h.state.clients).sort()).toEqual([h.as.issuer, b.as.issuer].sort());

    // Back to A: its client is reused, not registered again.
    h.mcp.authorizationServer = h.as.issuer;
    await b.idp.revokeAllGrants();
    h.stored = JSON.stringify({ ...h.state, expires_at: 1 });
    const atA = await h.started(port);
    expect(h.idp.counts.registrations).toBe(1);
    expect(h.state).toMatchObject({ issuer: h.as.issuer, client_id: first });
    expect(await h.call(atA)).toMatchObject({ status: 200 });
  });
});
