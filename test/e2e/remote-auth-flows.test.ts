import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { makeTempHomeWithTestBrowser, plainStateFiles, runThv, type TempHome, workloadUrlIn } from '../fixtures/cli.js';
import { startTestIdp, type TestIdp, type TestIdpOptions } from '../fixtures/idp.js';
import { startTokenFaultProxy, type TokenFaultProxy } from '../fixtures/token-fault-proxy.js';
import { startTokenCheckingMcp, type TokenCheckingMcp } from '../fixtures/token-checking-mcp.js';
import { startClientMetadataHost, type ClientMetadataHost } from '../fixtures/client-metadata-host.js';
import { clientMetadataDocument } from '../../src/auth/remote/cimd.js';
import { freePort } from '../fixtures/ports.js';
import { runThvInPty } from '../fixtures/pty.js';
import { waitFor } from '../workloads/helpers.js';

/**
 * The flows of docs/remote-auth.md that the built CLI's supervisor runs against real servers:
 * CIMD, step-up through the workload's proxy, and the RFC 9207 check.
 */
const NAME = 'flows1';
/** A desktop session (the test browser stands in for the real one), so the supervisor opens it. */
const DESKTOP = { DISPLAY: ':0' };

let home: TempHome;
let idp: TestIdp;
let as: TokenFaultProxy;
let mcp: TokenCheckingMcp;
let host: ClientMetadataHost | undefined;
const accepted = new Set<string>();
/** Access tokens the MCP server no longer honours (as after a key rotation): its 401 makes thv refresh. */
const retired = new Set<string>();

beforeEach(async () => {
  home = await makeTempHomeWithTestBrowser({ TOOLHIVE_SECRETS_PASSWORD: 'remote-auth-flows-password' });
  accepted.clear();
  retired.clear();
});

afterEach(async () => {
  await runThv(['stop', '--all'], home);
  await mcp?.close();
  await as?.close();
  await idp?.close();
  await host?.close();
  host = undefined;
  await home.cleanup();
});

/** The MCP server needs `mcp:admin` for its `admin` tool; the IdP grants `grants` for it. */
async function servers(grants: string, idpOptions: TestIdpOptions = {}): Promise<void> {
  mcp = await startTokenCheckingMcp({
    isValid: async (t) => {
      const ok = !retired.has(t) && Boolean(await idp.findAccessToken(t));
      if (ok) accepted.add(t);
      return ok;
    },
    scopesOf: async (t) => (await idp.findAccessToken(t))?.scope?.split(' ') ?? [],
    scopesSupported: ['mcp:tools'],
    toolScopes: { admin: 'mcp:admin' },
  });
  idp = await startTestIdp({ registration: true, extraScopes: ['mcp:admin'], resources: { [mcp.url]: { scope: grants } }, ...idpOptions });
  as = await startTokenFaultProxy(idp.issuer);
  mcp.authorizationServer = as.issuer;
}

async function run(env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const session = runThvInPty(['run', mcp.url, '--name', NAME, '--remote-auth', '--remote-auth-callback-port', String(await freePort())], { ...home.env, ...DESKTOP, ...env }, 60_000);
  return session.exit;
}

function proxyUrl(output: string): string {
  return workloadUrlIn(output);
}

async function callTool(url: string, name: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name, arguments: {} } }),
  });
  return { status: res.status, body: await res.text() };
}

async function browserRuns(): Promise<number> {
  return (await readFile(home.env.TEST_BROWSER_MARKER!, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
}

async function listed(): Promise<{ status: string; status_context: string }> {
  const result = await runThv(['list', '--all', '--format', 'json'], home);
  return (JSON.parse(result.stdout) as Array<{ name: string; status: string; status_context: string }>).find((r) => r.name === NAME)!;
}

// Each test starts a supervisor and logs in through the test browser at least once: slow on a loaded machine.
describe('thv run --remote-auth: registration order, step-up and RFC 9207 with the built CLI', { timeout: 90_000 }, () => {
  it('uses thv\'s Client ID Metadata Document (TOOLHIVE_CLIENT_METADATA_URL) when the server supports CIMD, registering nothing', async () => {
    host = await startClientMetadataHost();
    host.document = clientMetadataDocument(host.url);
    await servers('mcp:tools', { clientIdMetadataDocument: { ca: host.ca } });
    const { code, output } = await run({ TOOLHIVE_CLIENT_METADATA_URL: host.url });
    expect(code).toBe(0);
    expect(host.fetches).toBeGreaterThanOrEqual(1);
    expect(idp.counts.registrations).toBe(0);
    expect(await callTool(proxyUrl(output), 'whoami')).toMatchObject({ status: 200 });
    expect((await idp.findAccessToken([...accepted][0]!))?.clientId).toBe(host.url);
  });

  it('step-up through the workload\'s proxy: a 403 insufficient_scope opens one more login with the union of scopes and the call succeeds', async () => {
    await servers('mcp:tools mcp:admin');
    const { code, output } = await run();
    expect(code).toBe(0);
    const url = proxyUrl(output);
    expect(await browserRuns()).toBe(1);
    const admin = await callTool(url, 'admin');
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('hello, authenticated caller');
    expect(await browserRuns()).toBe(2);
    expect(mcp.counts.insufficientScope).toBe(1);
    expect(await callTool(url, 'admin')).toMatchObject({ status: 200 });
    expect(await browserRuns()).toBe(2);
    await waitFor('running', async () => (await listed()).status === 'running');
    const files = await plainStateFiles(home);
    for (const token of accepted) expect(files).not.toContain(token);
  });

  it('step-up that the authorization server does not grant: one more login, then a 403 saying why, and no loop', async () => {
    await servers('mcp:tools');
    const { code, output } = await run();
    expect(code).toBe(0);
    const url = proxyUrl(output);
    expect((await callTool(url, 'admin')).status).toBe(403);
    const again = await callTool(url, 'admin');
    expect(again.status).toBe(403);
    expect(again.body).toContain('not authorizing again');
    expect(await browserRuns()).toBe(2);
    expect(await callTool(url, 'whoami')).toMatchObject({ status: 200 });
  });

  it('a DCR client secret that expires is renewed by the running workload before it does, and the next refresh uses the new one', async () => {
    // Secrets live 8 s, so the supervisor (on the real clock) renews at half that; RFC 7592 rotates the
    // secret and the IdP forgets the old one at once, so a refresh with the old secret would fail.
    await servers('mcp:tools', { expiringClientSecrets: { ttlSeconds: 8, rotateOnUpdate: true } });
    const { code, output } = await run();
    expect(code).toBe(0);
    const url = proxyUrl(output);
    expect(await callTool(url, 'whoami')).toMatchObject({ status: 200 });
    expect(idp.counts.registrations).toBe(1);
    await waitFor('the client secret renewed by RFC 7592', () => idp.counts.registrationUpdates >= 1, 30_000);
    const refreshesBefore = idp.counts.refreshGrants;
    for (const token of accepted) retired.add(token);
    expect(await callTool(url, 'whoami')).toMatchObject({ status: 200 });
    expect(idp.counts.refreshGrants).toBeGreaterThan(refreshesBefore);
    expect(idp.counts.refreshGrantErrors).toBe(0);
    expect(idp.counts.registrations).toBe(1);
    expect(await browserRuns()).toBe(1);
    expect((await listed()).status).toBe('running');
    const log = await runThv(['logs', NAME], home);
    expect(log.stdout).toContain('renewed the OAuth client before its secret expires');
  });

  it('an authorization response naming another issuer (RFC 9207) fails the login: exit 3, unauthenticated with the reason', async () => {
    await servers('mcp:tools');
    as.iss = 'upstream';
    const { code, output } = await run();
    expect(code).toBe(3);
    expect(output).toContain('RFC 9207');
    expect(idp.counts.authorizationCodeGrants).toBe(0);
    const row = await listed();
    expect(row.status).toBe('unauthenticated');
    expect(row.status_context).toContain(`names issuer "${idp.issuer}"`);
  });
});
