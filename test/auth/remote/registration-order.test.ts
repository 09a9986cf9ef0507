import { afterEach, describe, expect, it } from 'vitest';
import { clientMetadataDocument } from '../../../src/auth/remote/index.js';
import { startClientMetadataHost, type ClientMetadataHost } from '../../fixtures/client-metadata-host.js';
import { freePort } from '../../fixtures/ports.js';
import { RemoteAuthHarness } from './harness.js';

let h: RemoteAuthHarness;
let host: ClientMetadataHost | undefined;

afterEach(async () => {
  await h?.close();
  await host?.close();
  host = undefined;
});

/** An IdP that accepts Client ID Metadata Documents, and thv's document published over real HTTPS. */
async function withCimd(registration = true): Promise<ClientMetadataHost> {
  host = await startClientMetadataHost();
  host.document = clientMetadataDocument(host.url);
  h = await new RemoteAuthHarness().start({ idp: { registration, clientIdMetadataDocument: { ca: host.ca } } });
  return host;
}

describe('registration order: pre-registered → Client ID Metadata Document → DCR → ask the user', () => {
  it('CIMD: the server advertises client_id_metadata_document_supported, so thv presents its document URL as client_id and registers nothing', async () => {
    const doc = await withCimd();
    const c = await h.started(await freePort(), { settings: { clientMetadataUrl: doc.url } });
    expect(new URL(h.opened[0]!).searchParams.get('client_id')).toBe(doc.url);
    // The authorization server fetched the document thv documents, and accepted it.
    expect(doc.fetches).toBeGreaterThanOrEqual(1);
    expect(h.idp.counts.registrations).toBe(0);
    expect(await h.call(c)).toMatchObject({ status: 200 });
    expect((await h.findToken(h.mcp.lastAcceptedToken!))?.clientId).toBe(doc.url);
    expect(h.state).toMatchObject({ client_id: doc.url, dynamic_client: false, clients: { [h.as.issuer]: { kind: 'cimd', client_id: doc.url } } });
    // A public client: the refresh needs no secret.
    expect(await c.refreshAfterUnauthorized!()).toBe(true);
    expect(h.idp.counts.refreshGrants).toBe(1);
  });

  it('a pre-registered client (--remote-auth-client-id) comes before CIMD and DCR', async () => {
    const doc = await withCimd();
    const c = await h.started(await freePort(), { settings: { clientId: h.idp.clientId, clientMetadataUrl: doc.url } });
    expect(new URL(h.opened[0]!).searchParams.get('client_id')).toBe(h.idp.clientId);
    expect(doc.fetches).toBe(0);
    expect(h.idp.counts.registrations).toBe(0);
    expect(await h.call(c)).toMatchObject({ status: 200 });
  });

  it('DCR when the server does not advertise CIMD, registering a native application', async () => {
    h = await new RemoteAuthHarness().start();
    const c = await h.started(await freePort(), { settings: { clientMetadataUrl: 'https://docs.example.com/thv/client-metadata.json' } });
    expect(h.idp.counts.registrations).toBe(1);
    expect(h.idp.registeredClients[0]).toMatchObject({ application_type: 'native', token_endpoint_auth_method: 'none' });
    expect(new URL(h.opened[0]!).searchParams.get('client_id')).toBe(h.idp.registeredClients[0]!.client_id);
    expect(await h.call(c)).toMatchObject({ status: 200 });
  });

  it('DCR when the server advertises CIMD but thv has no document URL', async () => {
    await withCimd();
    await h.started(await freePort());
    expect(h.idp.counts.registrations).toBe(1);
    expect(h.logs.join('')).toContain('TOOLHIVE_CLIENT_METADATA_URL is not set');
  });

  it('asks the user for a client when the server offers neither CIMD nor DCR, naming the flags', async () => {
    h = await new RemoteAuthHarness().start({ idp: { registration: false } });
    const c = h.credentials(await freePort());
    c.start();
    const err = await c.ready.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'auth_failed', message: expect.stringMatching(/no way to obtain a client.*no dynamic client registration/) });
    expect((err as { hint: string }).hint).toContain('--remote-auth-client-id');
    expect((err as { hint: string }).hint).toContain('--remote-auth-client-secret-file');
    expect(h.opened).toEqual([]);
    expect(h.statuses.at(-1)).toEqual(['unauthenticated', expect.stringContaining('OAuth login failed: ')]);
  });

  it('with CIMD advertised but no document URL and no DCR, the hint also names TOOLHIVE_CLIENT_METADATA_URL', async () => {
    await withCimd(false);
    const c = h.credentials(await freePort());
    c.start();
    const err = await c.ready.catch((e: unknown) => e);
    expect((err as Error).message).toContain('TOOLHIVE_CLIENT_METADATA_URL is not set');
    expect((err as { hint: string }).hint).toMatch(/--remote-auth-client-id.*TOOLHIVE_CLIENT_METADATA_URL/s);
  });
});
