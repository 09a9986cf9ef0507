import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../fixtures/manual-clock.js';
import { freePort } from '../../fixtures/ports.js';
import { waitFor } from '../../workloads/helpers.js';
import { RemoteAuthHarness } from './harness.js';

let h: RemoteAuthHarness;

afterEach(async () => {
  await h?.close();
});

const HOUR = 3600_000;

/**
 * The IdP makes every registered client confidential with a secret that expires after an hour
 * (`client_secret_expires_at`); access tokens live a day so that only the secret's timer matters.
 */
async function setUp(rotateOnUpdate = true): Promise<RemoteAuthHarness> {
  h = await new RemoteAuthHarness().start({ idp: { registration: true, accessTokenTtl: 86_400, expiringClientSecrets: { ttlSeconds: 3600, rotateOnUpdate } } });
  return h;
}

function storedClient() {
  return h.state.clients[h.as.issuer]!;
}

describe('expiring DCR client secrets (client_secret_expires_at)', () => {
  it('are renewed by RFC 7592 before they expire: same client, new secret, and the session keeps refreshing', async () => {
    await setUp();
    const clock = new ManualClock(Date.now());
    const c = await h.started(await freePort(), { clock });
    const before = storedClient();
    expect(before).toMatchObject({ kind: 'dcr', token_endpoint_auth_method: 'client_secret_basic' });
    expect(before.client_secret).toBeTruthy();
    expect(before.client_secret_expires_at).toBeGreaterThan(clock.now());
    expect(h.idp.counts.registrationUpdates).toBe(0);

    // Nothing happens early; at half the secret's lifetime it is renewed (the IdP's clock is the
    // real one, a little ahead of the manual clock's start: hence the extra minute).
    await clock.advance(HOUR / 4);
    expect(h.idp.counts.registrationUpdates).toBe(0);
    await clock.advance(HOUR / 4 + 60_000);
    await waitFor('the renewed secret is stored', () => storedClient().client_secret !== before.client_secret);
    expect(h.idp.counts.registrationUpdates).toBe(1);
    expect(h.idp.counts.registrations).toBe(1);
    const after = storedClient();
    expect(after.client_id).toBe(before.client_id);
    expect(h.state.client_secret).toBe(after.client_secret);
    // The IdP counts in real seconds: the new expiry may fall in the same second as the first.
    expect(after.client_secret_expires_at).toBeGreaterThanOrEqual(before.client_secret_expires_at!);
    expect(after.obtained_at).toBeGreaterThan(before.obtained_at!);

    // The refresh authenticates with the new secret (the IdP no longer knows the old one).
    expect(await c.refreshAfterUnauthorized!()).toBe(true);
    expect(h.idp.counts.refreshGrantErrors).toBe(0);
    expect(await h.call(c)).toMatchObject({ status: 200 });
    const text = h.logs.join('');
    expect(text).toContain('renewed the OAuth client before its secret expires');
    for (const secret of [before.client_secret!, after.client_secret!, before.registration_access_token!]) expect(text).not.toContain(secret);
  });

  it('without renewal the refresh fails once the secret has expired (what the renewal prevents)', async () => {
    await setUp();
    const c = await h.started(await freePort(), { clock: new ManualClock(Date.now()) });
    h.idp.expireClientSecrets();
    expect(await c.refreshAfterUnauthorized!()).toBe(false);
    expect(c.monitor!.state).toMatchObject({ status: 'unauthenticated', context: expect.stringContaining('invalid_client') });
  });

  it('a server that keeps the secret on update gets a new registration, which the next login uses', async () => {
    await setUp(false);
    const clock = new ManualClock(Date.now());
    const port = await freePort();
    await h.started(port, { clock });
    const first = storedClient();
    await clock.advance(HOUR / 2 + 60_000);
    await waitFor('a new registration', () => storedClient().client_id !== first.client_id);
    expect(h.idp.counts.registrationUpdates).toBe(1);
    expect(h.idp.counts.registrations).toBe(2);
    // The running session keeps its own client until then; the next login takes the new one.
    expect(h.state.client_id).toBe(first.client_id);
    await h.idp.revokeAllGrants();
    h.stored = JSON.stringify({ ...h.state, expires_at: 1 });
    await h.started(port, { clock });
    expect(new URL(h.opened.at(-1)!).searchParams.get('client_id')).toBe(storedClient().client_id);
    expect(h.state.client_id).not.toBe(first.client_id);
    expect(h.idp.counts.registrations).toBe(2);
  });

  it('a stored client whose renewal is due is renewed before a new login uses it', async () => {
    await setUp();
    const clock = new ManualClock(Date.now());
    const port = await freePort();
    const c = await h.started(port, { clock });
    await c.close();
    const first = storedClient();
    // Stopped past the renewal point: the next start must not log in with a secret about to expire.
    clock.advance(HOUR * 0.75);
    await h.idp.revokeAllGrants();
    h.stored = JSON.stringify({ ...h.state, expires_at: 1 });
    await h.started(port, { clock });
    expect(h.idp.counts.registrationUpdates).toBe(1);
    expect(storedClient()).toMatchObject({ client_id: first.client_id });
    expect(storedClient().client_secret).not.toBe(first.client_secret);
    expect(h.idp.counts.authorizationCodeGrants).toBe(2);
  });
});
