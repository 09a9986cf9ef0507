import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempHomeWithTestBrowser, plainStateFiles, runThv, spawnedChildren, type TempHome, workloadUrlIn } from '../fixtures/cli.js';
import { startTestIdp, type TestIdp } from '../fixtures/idp.js';
import { startTokenFaultProxy, type TokenFaultProxy } from '../fixtures/token-fault-proxy.js';
import { startTokenCheckingMcp, type TokenCheckingMcp } from '../fixtures/token-checking-mcp.js';
import { waitFor } from '../workloads/helpers.js';
import { followLogin } from '../fixtures/test-browser.mjs';
import { resolvePaths } from '../../src/core/paths.js';
import { openSecretsProvider, scopedSecrets } from '../../src/secrets/index.js';
import { freePort } from '../fixtures/ports.js';
import { runThvInPty } from '../fixtures/pty.js';
import { startServe } from '../fixtures/serve.js';
import { startMcpHttpServer } from '../fixtures/mcp-http-server.mjs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import Fastify from 'fastify';
import { THV_BIN } from '../fixtures/cli.js';
import { RegistryService } from '../../src/registry/service.js';
import { toApiError } from '../../src/api/errors.js';
import { registerWorkloadRoutes } from '../../src/api/routes/workloads.js';
import { routeDeps } from '../../src/api/deps.js';
import { StatusStore } from '../../src/workloads/status-store.js';
import { startInProcess } from '../workloads/in-process.js';

const NAME = 'remote1';

const CLIENT_SECRET = 'confidential-client-secret-value';
/** A pre-registered confidential client: the IdP refuses its code exchange without the secret. */
const CONFIDENTIAL_CLIENT = {
  client_id: 'thv-confidential',
  client_secret: CLIENT_SECRET,
  application_type: 'native' as const,
  token_endpoint_auth_method: 'client_secret_basic',
  redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

let home: TempHome;
let idp: TestIdp;
let as: TokenFaultProxy;
let mcp: TokenCheckingMcp;
const acceptedTokens = new Set<string>();

/** Short timings through the env overrides (docs/remote-auth.md), so the real supervisor walks every state quickly. */
const FAST = {
  TOOLHIVE_TOKEN_REFRESH_INITIAL_RETRY_INTERVAL: '50ms',
  TOOLHIVE_TOKEN_REFRESH_MAX_RETRY_INTERVAL: '100ms',
  TOOLHIVE_TOKEN_REFRESH_MAX_TRIES: '3',
  TOOLHIVE_TOKEN_REFRESH_MAX_ELAPSED_TIME: '2s',
  TOOLHIVE_TOKEN_AUTH_RETRYING_TICK_INTERVAL: '200ms',
  TOOLHIVE_TOKEN_AUTH_RETRYING_MAX_ELAPSED: '10m',
};

beforeEach(async () => {
  home = await makeTempHomeWithTestBrowser({ TOOLHIVE_SECRETS_PASSWORD: 'remote-auth-test-password', ...FAST });
  acceptedTokens.clear();
  mcp = await startTokenCheckingMcp({
    isValid: async (token) => {
      const ok = Boolean(await idp.findAccessToken(token));
      if (ok) acceptedTokens.add(token);
      return ok;
    },
    scopesSupported: ['mcp:tools'],
  });
  idp = await startTestIdp({ registration: true, accessTokenTtl: 4, resources: { [mcp.url]: { scope: 'mcp:tools' } }, clients: [CONFIDENTIAL_CLIENT] });
  as = await startTokenFaultProxy(idp.issuer);
  mcp.authorizationServer = as.issuer;
});

const spawned = spawnedChildren();
afterEach(async () => {
  await spawned.endAll();
  await runThv(['stop', '--all'], home);
  await mcp.close();
  await as.close();
  await idp.close();
  await home.cleanup();
});

/** A desktop session (the test browser stands in for the real one); without it thv is headless. */
const DESKTOP = { DISPLAY: ':0' };

/**
 * `thv run … --remote-auth` as a person at a terminal on a desktop: on a pseudo-terminal, with a
 * display, so the CLI lets its supervisor open the (test) browser (docs/remote-auth.md#headless-machines).
 */
async function runRemote(env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): Promise<string> {
  const session = runThvInPty(['run', mcp.url, '--name', NAME, '--remote-auth', '--remote-auth-callback-port', String(await freePort()), ...extraArgs], { ...home.env, ...DESKTOP, ...env }, 60_000);
  const { code, output } = await session.exit;
  expect(output).not.toMatch(/error/i);
  expect(code).toBe(0);
  return workloadUrlIn(output);
}

async function call(url: string): Promise<Response> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await res.clone().arrayBuffer();
  return res;
}

/** The built CLI as a child whose stderr can be watched while it runs. */
function spawnThv(args: string[], env: NodeJS.ProcessEnv = {}): { stderr: () => string; stdout: () => string; exit: Promise<number | null> } {
  const child = spawned.add(spawn(process.execPath, [THV_BIN, ...args], { env: { ...home.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { stdout: () => out, stderr: () => err, exit: new Promise((r) => child.on('close', r)) };
}

async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((r) => {
    probe.once('error', () => r(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => r(true)));
  });
}

async function listed(): Promise<{ status: string; status_context: string }> {
  const result = await runThv(['list', '--all', '--format', 'json'], home);
  const rows = JSON.parse(result.stdout) as Array<{ name: string; status: string; status_context: string }>;
  return rows.find((r) => r.name === NAME)!;
}

async function browserRuns(): Promise<number> {
  return (await readFile(home.env.TEST_BROWSER_MARKER!, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
}

async function logText(): Promise<string> {
  return readFile(join(resolvePaths(home.env).logsDir, `${NAME}.log`), 'utf8');
}

async function storedRefreshToken(): Promise<string> {
  const paths = resolvePaths(home.env);
  const provider = await openSecretsProvider({ paths, env: home.env, config: {} as never, interactive: false });
  const raw = await scopedSecrets(provider, 'workloads').get(`WORKLOAD_${NAME}_OAUTH`);
  return (JSON.parse(raw!) as { refresh_token: string }).refresh_token;
}

describe('thv run https://… --remote-auth', () => {
  it('logs in once through the browser; restart needs no new login; the proxy injects a token the server accepts', async () => {
    const url = await runRemote();
    expect(await browserRuns()).toBe(1);
    expect((await call(url)).status).toBe(200);
    expect((await listed()).status).toBe('running');

    const restarted = await runThv(['restart', NAME], home, { timeoutMs: 60_000 });
    expect(restarted.code).toBe(0);
    expect(await browserRuns()).toBe(1);
    await waitFor('a call through the restarted proxy', async () => (await call(url)).status === 200);
    // The 4 s access token is refreshed in the background; calls keep working with the new one.
    await waitFor('a background refresh', () => as.counts.tokenRequests >= 2, 20_000);
    expect((await call(url)).status).toBe(200);
    expect(await browserRuns()).toBe(1);

    const files = await plainStateFiles(home);
    const refresh = await storedRefreshToken();
    expect(files).not.toContain(refresh);
    for (const token of acceptedTokens) expect(files).not.toContain(token);

    // rm takes the stored session with it.
    expect((await runThv(['rm', NAME], home)).code).toBe(0);
    await expect(storedRefreshToken()).rejects.toThrow();
  });

  it('an HTML 403 from the token endpoint → auth_retrying and 503 + Retry-After; healing → running without user action', async () => {
    const url = await runRemote();
    as.fault = 'html403';
    await waitFor('auth_retrying', async () => (await listed()).status === 'auth_retrying', 20_000);
    expect((await listed()).status_context).toContain('HTML page');
    const failing = await waitFor('a 503 from the proxy', async () => {
      const res = await call(url);
      return res.status === 503 ? res : undefined;
    }, 20_000);
    expect(Number(failing.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    as.fault = 'pass';
    await waitFor('running again', async () => (await listed()).status === 'running', 20_000);
    await waitFor('calls succeed again', async () => (await call(url)).status === 200, 20_000);
    expect(await browserRuns()).toBe(1);
    expect(await logText()).not.toContain('registration may be stale');
  });

  it('invalid_grant → unauthenticated at once with a reason, no retries, and the stale-client hint once', async () => {
    await runRemote();
    as.fault = 'invalid_grant';
    const row = await waitFor('unauthenticated', async () => {
      const r = await listed();
      return r.status === 'unauthenticated' ? r : undefined;
    }, 20_000);
    expect(row.status_context).toContain('invalid_grant');
    const faulted = as.counts.faulted;
    expect(faulted).toBe(1);
    const log = await waitFor('the hint in the log', async () => {
      const text = await logText();
      return text.includes('registration may be stale') ? text : undefined;
    });
    expect(log.split('registration may be stale')).toHaveLength(2);
    expect(as.counts.faulted).toBe(faulted);
  });

  it('a transient failure that outlasts the ceiling → unauthenticated without the hint', async () => {
    await runRemote({ TOOLHIVE_TOKEN_AUTH_RETRYING_MAX_ELAPSED: '1s' });
    as.fault = '500';
    const row = await waitFor('unauthenticated', async () => {
      const r = await listed();
      return r.status === 'unauthenticated' ? r : undefined;
    }, 30_000);
    expect(row.status_context).toMatch(/kept failing.*HTTP 500/);
    expect(await logText()).not.toContain('registration may be stale');
  });

  it('without a person at hand (TOOLHIVE_NON_INTERACTIVE) no browser opens: the workload reports unauthenticated with the authorization URL', async () => {
    const port = await freePort();
    const run = runThv(['run', mcp.url, '--name', NAME, '--remote-auth', '--remote-auth-callback-port', String(port)], home, {
      env: { TOOLHIVE_NON_INTERACTIVE: '1' },
      timeoutMs: 60_000,
    });
    const row = await waitFor('unauthenticated with a URL', async () => {
      const r = await listed().catch(() => undefined);
      return r?.status === 'unauthenticated' && r.status_context.includes('http') ? r : undefined;
    }, 20_000);
    const authorizationUrl = /(http:\/\/\S+)/.exec(row.status_context)![1]!;
    expect(new URL(authorizationUrl).origin).toBe(as.issuer);
    expect(await followLogin(authorizationUrl)).toBe(200);
    const result = await run;
    expect(result.code).toBe(0);
    expect(await browserRuns()).toBe(0);
    expect((await listed()).status).toBe('running');
  });

  it('an upstream 401 makes the proxy refresh once and replay the request', async () => {
    const url = await runRemote();
    expect((await call(url)).status).toBe(200);
    const before = as.counts.tokenRequests;
    mcp.reject(mcp.lastAcceptedToken!);
    const res = await call(url);
    expect(res.status).toBe(200);
    // ≥: the 4 s token may also be refreshed in the background meanwhile; "once per 401" is proven in monitor.test.ts.
    expect(as.counts.tokenRequests).toBeGreaterThanOrEqual(before + 1);
    expect(mcp.counts.rejected).toBeGreaterThanOrEqual(1);
  });
  it('starts headless: the proxy listens at once, the CLI prints the login URL on stderr and waits, calls get 503 until the login completes', async () => {
    const proxyPort = await freePort();
    const run = spawnThv(['run', mcp.url, '--name', NAME, '--remote-auth', '--remote-auth-skip-browser', '--remote-auth-callback-port', String(await freePort()), '--proxy-port', String(proxyPort)]);
    const line = await waitFor('the login URL on stderr', () => /^OAuth login required: open (http:\/\/\S+)$/m.exec(run.stderr())?.[1], 20_000);
    const authorizationUrl = new URL(line);
    expect(authorizationUrl.origin).toBe(as.issuer);
    expect(run.stdout()).toBe('');

    // The supervisor reported ready before the login: its proxy answers, with a reason and a retry time.
    const waiting = await call(`http://127.0.0.1:${proxyPort}/mcp`);
    expect(waiting.status).toBe(503);
    expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await waiting.json()) as { error: { message: string } }).error.message).toMatch(/OAuth login required.*thv status/);
    expect(await listed()).toEqual(expect.objectContaining({ status: 'unauthenticated', status_context: `OAuth login required: open ${line}` }));
    expect(await plainStateFiles(home)).not.toMatch(/code_verifier/);

    expect(await followLogin(line)).toBe(200);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toContain(`is running at http://127.0.0.1:${proxyPort}/`);
    expect((await listed()).status).toBe('running');
    expect((await call(`http://127.0.0.1:${proxyPort}/mcp`)).status).toBe(200);
    expect(await browserRuns()).toBe(0);
  });

  it('a login nobody completes ends with the flow timeout: thv run exits 3 with the reason, the workload stays unauthenticated', async () => {
    const result = await runThv(['run', mcp.url, '--name', NAME, '--remote-auth', '--remote-auth-skip-browser', '--remote-auth-timeout', '1s', '--remote-auth-callback-port', String(await freePort())], home, { timeoutMs: 60_000 });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^OAuth login required: open http:\/\/\S+$/m);
    expect(result.stderr).toContain('did not complete within 1s');
    expect(result.stdout).toBe('');
    const row = await listed();
    expect(row.status).toBe('unauthenticated');
    expect(row.status_context).toMatch(/^OAuth login failed: the browser login did not complete within 1s/);
  });

  it('the REST API never opens a browser: POST returns at once, the workload reports the URL, the login completes in the background', async () => {
    const paths = resolvePaths(home.env);
    const env = { ...process.env, ...home.env };
    const app = Fastify();
    app.setErrorHandler(async (err, _req, reply) => {
      const { status, body } = toApiError(err);
      return reply.status(status).send(body);
    });
    registerWorkloadRoutes(app, routeDeps({ paths, env, registry: new RegistryService({ paths, env, interactive: false }) }));
    await app.ready();
    try {
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1beta/workloads',
        payload: { name: NAME, url: mcp.url, remote_auth: { enabled: true, callback_port: await freePort() } },
      });
      expect(created.statusCode).toBe(201);
      const { url } = created.json() as { url: string };
      const context = await waitFor('unauthenticated with the URL', async () => {
        const res = await app.inject({ method: 'GET', url: `/api/v1beta/workloads/${NAME}/status` });
        const body = res.json() as { status: string; status_context: string };
        return body.status === 'unauthenticated' && body.status_context.startsWith('OAuth login required: open ') ? body.status_context : undefined;
      }, 20_000);
      expect(await browserRuns()).toBe(0);
      expect((await call(url)).status).toBe(503);
      // The login link, as the dashboard shows it, is a field of its own in both answers.
      const loginUrl = /(http:\/\/\S+)/.exec(context)![1]!;
      expect((await app.inject({ method: 'GET', url: `/api/v1beta/workloads/${NAME}/status` })).json()).toEqual(expect.objectContaining({ login_url: loginUrl }));
      const listed = (await app.inject({ method: 'GET', url: '/api/v1beta/workloads' })).json() as { workloads: Array<{ name: string; login_url?: string }> };
      expect(listed.workloads.find((w) => w.name === NAME)).toEqual(expect.objectContaining({ login_url: loginUrl }));

      expect(await followLogin(/(http:\/\/\S+)/.exec(context)![1]!)).toBe(200);
      await waitFor('running', async () => (await app.inject({ method: 'GET', url: `/api/v1beta/workloads/${NAME}/status` })).json().status === 'running', 20_000);
      expect((await call(url)).status).toBe(200);
      expect(await browserRuns()).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('stopping a supervisor closes its credentials: a pending login is cancelled and its callback port freed', async () => {
    const callbackPort = await freePort();
    const workload = await startInProcess(
      { name: NAME, remote_url: mcp.url, transport: 'streamable-http', remote_auth: { enabled: true, skip_browser: true, callback_port: callbackPort } },
      { env: { ...process.env, ...home.env } },
    );
    const statuses = new StatusStore(workload.paths);
    try {
      await waitFor('the pending login', async () => (await statuses.read(NAME))?.status === 'unauthenticated', 20_000);
      expect(await portIsFree(callbackPort)).toBe(false);
      await workload.supervisor.stop();
      expect(await portIsFree(callbackPort)).toBe(true);
      expect((await statuses.read(NAME))?.status).toBe('stopped');
    } finally {
      await workload.close();
    }
  });

  it('a confidential client: the secret (from the secrets store) is used on the code exchange, and is nowhere else', async () => {
    const url = await runRemote({}, ['--remote-auth-client-id', CONFIDENTIAL_CLIENT.client_id, '--remote-auth-client-secret', CLIENT_SECRET]);
    expect(idp.counts.authorizationCodeGrants).toBe(1);
    expect((await call(url)).status).toBe(200);
    expect(await plainStateFiles(home)).not.toContain(CLIENT_SECRET);
    const pid = (await waitFor('the supervisor pid', async () => (await new StatusStore(resolvePaths(home.env)).read(NAME))?.process_id))!;
    for (const file of ['cmdline', 'environ']) expect(await readFile(`/proc/${pid}/${file}`, 'utf8')).not.toContain(CLIENT_SECRET);
  });
});

describe('headless machines (issue 14): thv run prints the authorization URL and never opens a browser', () => {
  const LOGIN_LINE = /^OAuth login required: open (http:\/\/\S+?)\r?$/m;

  /** Starts `thv run` the given way; returns its combined output so far and its exit code. */
  async function startRun(how: 'pipes' | 'pty', env: NodeJS.ProcessEnv): Promise<{ output: () => string; exit: Promise<number | null> }> {
    const args = ['run', mcp.url, '--name', NAME, '--remote-auth', '--remote-auth-callback-port', String(await freePort())];
    if (how === 'pipes') {
      const run = spawnThv(args, env);
      return { output: () => run.stderr() + run.stdout(), exit: run.exit };
    }
    const session = runThvInPty(args, { ...home.env, ...env }, 60_000);
    return { output: session.output, exit: session.exit.then((r) => r.code) };
  }

  it.each([
    ['no terminal (stdin and stderr are pipes), on a desktop', 'pipes', DESKTOP],
    ['a terminal without a display (DISPLAY and WAYLAND_DISPLAY unset)', 'pty', {}],
    ['a terminal on a desktop, under CI', 'pty', { ...DESKTOP, CI: 'true' }],
  ] as const)('%s: the URL is printed, thv status shows the login link, the login completes', async (_what, how, env) => {
    const run = await startRun(how, env);
    const url = await waitFor('the login URL in the output', () => LOGIN_LINE.exec(run.output())?.[1], 30_000);
    expect(new URL(url).origin).toBe(as.issuer);

    const status = await runThv(['status', NAME], home);
    expect(status.stdout).toMatch(new RegExp(`^Log in at:\\s+${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    const json = JSON.parse((await runThv(['status', NAME, '--format', 'json'], home)).stdout) as { status: string; login_url?: string };
    expect(json).toEqual(expect.objectContaining({ status: 'unauthenticated', login_url: url }));

    expect(await followLogin(url)).toBe(200);
    expect(await run.exit).toBe(0);
    expect(run.output()).toContain('is running at http://127.0.0.1:');
    expect(await browserRuns()).toBe(0);
    const running = JSON.parse((await runThv(['status', NAME, '--format', 'json'], home)).stdout) as { status: string; login_url?: string };
    expect(running.status).toBe('running');
    expect(running.login_url).toBeUndefined();
    expect(await logText()).toMatch(/no browser is opened for the OAuth login/);
  });
});


describe('after a refresh token dies (issue 14: ToolHive users got 401 after ~1 h and restart did not recover)', () => {
  beforeEach(async () => {
    // An access token that is still "fresh" by its expiry when the session dies: a restart that
    // resumed the stored session would use it again instead of logging in.
    await as.close();
    await idp.close();
    idp = await startTestIdp({ registration: true, accessTokenTtl: 3600, resources: { [mcp.url]: { scope: 'mcp:tools' } } });
    as = await startTokenFaultProxy(idp.issuer);
    mcp.authorizationServer = as.issuer;
  });

  it('the IdP revokes the session → unauthenticated; thv restart starts a fresh login (URL printed) instead of failing again with the dead token', async () => {
    const url = await runRemote();
    expect((await call(url)).status).toBe(200);
    const firstRefresh = await storedRefreshToken();

    // The IdP forgets the grant: the access token is rejected upstream, the refresh token is invalid_grant.
    await idp.revokeAllGrants();
    expect((await call(url)).status).toBe(401);
    const dead = await waitFor('unauthenticated', async () => {
      const r = await listed();
      return r.status === 'unauthenticated' ? r : undefined;
    }, 20_000);
    expect(dead.status_context).toContain('invalid_grant');
    const refusedRefreshes = idp.counts.refreshGrantErrors;
    expect(refusedRefreshes).toBe(1);
    // The dead tokens are forgotten at once; the (dynamically registered) client is kept.
    await expect(storedRefreshToken()).resolves.toBeUndefined();

    // Restarted without a terminal: the new login's URL is printed; nothing retries the dead token.
    const restart = spawnThv(['restart', NAME]);
    const loginUrl = await waitFor('the login URL of the restart', () => /^OAuth login required: open (http:\/\/\S+)$/m.exec(restart.stderr())?.[1], 30_000);
    expect((await listed()).status).toBe('unauthenticated');
    expect(idp.counts.refreshGrantErrors).toBe(refusedRefreshes);
    expect(await followLogin(loginUrl)).toBe(200);
    expect(await restart.exit).toBe(0);
    expect(restart.stdout()).toContain(`MCP server "${NAME}" is running at`);
    expect((await listed()).status).toBe('running');
    expect((await call(url)).status).toBe(200);
    const fresh = await storedRefreshToken();
    expect(fresh).toBeTruthy();
    expect(fresh).not.toBe(firstRefresh);
    expect(idp.counts.authorizationCodeGrants).toBe(2);
  }, 90_000);
});

describe('no credential anywhere (issue 14: grep over the temp home and every output)', () => {
  const BEARER = 'bearer-value-7d1e0c5b';
  const HEADER_FROM_STDIN = 'stdin-header-value-41a9';
  const HEADER_ON_ARGV = 'argv-header-value-9c27';

  it('bearer token, credential headers (argv and stdin), client secret and a full OAuth login: no value, access or refresh token in any file, output, log, status, run config or API answer', async () => {
    const plain = await startMcpHttpServer();
    const outputs: string[] = [];
    const keep = <T extends { stdout: string; stderr: string }>(r: T): T => {
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    try {
      const bearer = keep(await runThv(['run', plain.url, '--name', 'bearer', '--remote-auth-bearer-token', BEARER], home, { timeoutMs: 60_000 }));
      expect(bearer.code).toBe(0);
      const fromStdin = keep(await runThv(['run', plain.url, '--name', 'header', '--remote-header-file', '-'], home, { input: `X-API-Key: ${HEADER_FROM_STDIN}\n`, timeoutMs: 60_000 }));
      expect(fromStdin.code).toBe(0);
      const onArgv = keep(await runThv(['run', plain.url, '--name', 'header2', '--remote-header', `Authorization: Bearer ${HEADER_ON_ARGV}`], home, { timeoutMs: 60_000 }));
      expect(onArgv.code).toBe(0);

      // A confidential client (secret on argv) and a full login, headless: the URL is printed.
      const login = spawnThv(['run', mcp.url, '--name', NAME, '--remote-auth', '--remote-auth-callback-port', String(await freePort()), '--remote-auth-client-id', CONFIDENTIAL_CLIENT.client_id, '--remote-auth-client-secret', CLIENT_SECRET]);
      const loginUrl = await waitFor('the login URL', () => /^OAuth login required: open (http:\/\/\S+)$/m.exec(login.stderr())?.[1], 30_000);
      expect(await followLogin(loginUrl)).toBe(200);
      expect(await login.exit).toBe(0);
      outputs.push(login.stdout(), login.stderr());

      // Every workload is used, so the proxies send what they hold and log what they do.
      for (const out of [bearer.stdout, fromStdin.stdout, onArgv.stdout]) expect((await call(workloadUrlIn(out))).status).toBeLessThan(500);
      expect((await call(workloadUrlIn(login.stdout()))).status).toBe(200);
      const sent = plain.requests.map((r) => `${String(r.headers.authorization)} ${String(r.headers['x-api-key'])}`).join('\n');
      for (const value of [BEARER, HEADER_FROM_STDIN, HEADER_ON_ARGV]) expect(sent).toContain(value);
      expect(acceptedTokens.size).toBeGreaterThan(0);
      const refresh = await storedRefreshToken();
      expect(refresh).toBeTruthy();

      keep(await runThv(['restart', NAME], home, { timeoutMs: 60_000 }));
      keep(await runThv(['list', '--all'], home));
      keep(await runThv(['list', '--all', '--format', 'json'], home));
      for (const name of ['bearer', 'header', 'header2', NAME]) {
        keep(await runThv(['status', name], home));
        keep(await runThv(['status', name, '--format', 'json'], home));
        keep(await runThv(['logs', name], home));
      }

      const serve = await startServe(home, ['--port', '0']);
      try {
        const auth = { authorization: `Bearer ${serve.token!}` };
        for (const path of ['/api/v1beta/workloads?all=true', ...['bearer', 'header', 'header2', NAME].flatMap((n) => [`/api/v1beta/workloads/${n}`, `/api/v1beta/workloads/${n}/status`, `/api/v1beta/workloads/${n}/logs`, `/api/v1beta/workloads/${n}/proxy-logs`])]) {
          const res = await fetch(`${serve.url}${path}`, { headers: auth });
          expect(res.status, path).toBe(200);
          outputs.push(await res.text());
        }
      } finally {
        await serve.stop();
        outputs.push(serve.stderr());
      }

      // Every file under the temp home but the encrypted secrets store (run configs, statuses, logs, locks, caches…).
      const paths = resolvePaths(home.env);
      const files: Array<[string, string]> = [];
      for (const entry of await readdir(home.root, { withFileTypes: true, recursive: true })) {
        const path = join(entry.parentPath, entry.name);
        if (!entry.isFile() || path === paths.secretsFile) continue;
        files.push([path, await readFile(path, 'latin1')]);
      }
      expect(files.some(([path]) => path.startsWith(paths.runConfigsDir))).toBe(true);
      expect(files.some(([path]) => path.startsWith(paths.logsDir))).toBe(true);
      const needles: Array<[string, string]> = [
        ['the bearer token', BEARER],
        ['the credential header from stdin', HEADER_FROM_STDIN],
        ['the credential header from argv', HEADER_ON_ARGV],
        ['the client secret', CLIENT_SECRET],
        ['the refresh token', refresh],
        ...[...acceptedTokens].map((t, i): [string, string] => [`access token ${i}`, t]),
      ];
      const leaks: string[] = [];
      for (const [what, value] of needles) {
        for (const [path, text] of files) if (text.includes(value)) leaks.push(`${what} in ${path}`);
        outputs.forEach((text, i) => {
          if (text.includes(value)) leaks.push(`${what} in output ${i}`);
        });
      }
      expect(leaks).toEqual([]);
    } finally {
      await plain.close();
    }
  }, 180_000);
});

