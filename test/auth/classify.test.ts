import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFetchError, classifyTokenResponse, type TokenOutcome } from '../../src/auth/classify.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const faults: Record<string, Handler> = {
  ok: (_q, r) => json(r, 200, { access_token: 'at-1', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt-2' }),
  html403: (_q, r) => send(r, 403, 'text/html', '<html><body>Access denied by the edge</body></html>'),
  text400: (_q, r) => send(r, 400, 'text/plain', 'Bad Request'),
  jsonWithoutError400: (_q, r) => json(r, 400, { message: 'nope' }),
  invalidGrant: (_q, r) => json(r, 400, { error: 'invalid_grant', error_description: 'grant request is invalid' }),
  invalidClient: (_q, r) => json(r, 401, { error: 'invalid_client' }),
  temporarilyUnavailable: (_q, r) => json(r, 400, { error: 'temporarily_unavailable' }),
  tooMany: (_q, r) => {
    r.setHeader('Retry-After', '7');
    json(r, 429, { error: 'slow_down' });
  },
  server500: (_q, r) => send(r, 500, 'text/plain', 'boom'),
  unavailable503Json: (_q, r) => json(r, 503, { error: 'invalid_grant' }),
  garbage200: (_q, r) => send(r, 200, 'application/json', '{"access_token": '),
  missingToken200: (_q, r) => json(r, 200, { token_type: 'Bearer' }),
  reset: (q) => q.socket.destroy(),
  endless200: (_q, r) => {
    // A body that never ends: only a reader with its own limit returns.
    r.writeHead(200, { 'content-type': 'application/json' });
    r.write('{"access_token":"');
    const chunk = 'a'.repeat(64 * 1024);
    const pump = () => {
      while (r.write(chunk));
      r.once('drain', pump);
    };
    r.on('error', () => undefined);
    pump();
  },
  hang: () => undefined,
};

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type }).end(body);
}
function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

let server: Server;
let base: string;
const started: Array<{ close(): unknown }> = [];

beforeAll(async () => {
  server = createHttpServer((req, res) => {
    const name = req.url?.slice(1) ?? '';
    (faults[name] ?? ((_q, r) => send(r, 404, 'text/plain', 'no such fault')))(req, res);
  });
  await listen(server);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  for (const s of started) s.close();
});

function listen(s: { listen(port: number, host: string, cb: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
}

async function outcomeOf(fault: string, init: RequestInit = {}): Promise<TokenOutcome> {
  try {
    const res = await fetch(`${base}/${fault}`, { method: 'POST', signal: AbortSignal.timeout(5_000), ...init });
    return await classifyTokenResponse(res);
  } catch (err) {
    return { ok: false, failure: classifyFetchError(err) };
  }
}

function failureOf(outcome: TokenOutcome) {
  if (outcome.ok) throw new Error('expected a failure, got tokens');
  return outcome.failure;
}

describe('refresh failure classification (the table in docs/remote-auth.md)', () => {
  it('a well-formed token response is a success carrying the rotated refresh token', async () => {
    const outcome = await outcomeOf('ok');
    expect(outcome).toEqual({
      ok: true,
      tokens: { access_token: 'at-1', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt-2' },
    });
  });

  it.each([
    ['server500', 500],
    ['tooMany', 429],
    ['unavailable503Json', 503],
  ])('HTTP %s is transient', async (fault, status) => {
    const failure = failureOf(await outcomeOf(fault));
    expect(failure).toMatchObject({ kind: 'transient', status });
  });

  it('a 429 passes its Retry-After on', async () => {
    expect(failureOf(await outcomeOf('tooMany')).retryAfterMs).toBe(7_000);
  });

  it.each(['html403', 'text400', 'jsonWithoutError400'])('a 4xx without an RFC 6749 error body (%s) is transient', async (fault) => {
    const failure = failureOf(await outcomeOf(fault));
    expect(failure.kind).toBe('transient');
    expect(failure.oauthError).toBeUndefined();
  });

  it('an HTML 403 says so in the reason without echoing the page', async () => {
    const failure = failureOf(await outcomeOf('html403'));
    expect(failure.reason).toContain('HTML page');
    expect(failure.reason).not.toContain('edge');
  });

  it.each([
    ['invalidGrant', 'invalid_grant', 400],
    ['invalidClient', 'invalid_client', 401],
  ])('a 4xx with an RFC 6749 error (%s) is permanent', async (fault, code, status) => {
    const failure = failureOf(await outcomeOf(fault));
    expect(failure).toMatchObject({ kind: 'permanent', oauthError: code, status });
    expect(failure.reason).toContain(code);
  });

  it('temporarily_unavailable is not a reason to log out', async () => {
    expect(failureOf(await outcomeOf('temporarilyUnavailable')).kind).toBe('transient');
  });

  it.each(['garbage200', 'missingToken200'])('an unparseable token response (%s) is transient', async (fault) => {
    expect(failureOf(await outcomeOf(fault)).kind).toBe('transient');
  });

  it('an endless body is refused after 64 KiB as transient, without buffering it', async () => {
    const failure = failureOf(await outcomeOf('endless200'));
    expect(failure.kind).toBe('transient');
    expect(failure.reason).toContain('over 64 KiB');
  });

  it('a connection reset is transient', async () => {
    const failure = failureOf(await outcomeOf('reset'));
    expect(failure.kind).toBe('transient');
    expect(failure.reason).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
  });

  it('a timeout is transient', async () => {
    const failure = failureOf(await outcomeOf('hang', { signal: AbortSignal.timeout(200) }));
    expect(failure).toMatchObject({ kind: 'transient', reason: 'token request timed out' });
  });

  it('a refused connection is transient', async () => {
    const probe = createNetServer();
    await listen(probe);
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    let failure;
    try {
      await fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
      throw new Error('expected the connection to be refused');
    } catch (err) {
      failure = classifyFetchError(err);
    }
    expect(failure.kind).toBe('transient');
    expect(failure.reason).toContain('ECONNREFUSED');
  });

  it('a DNS failure is transient', async () => {
    // The resolver is the only injected part: undici itself wraps the failure as it would in production.
    await fetch(`${base}/ok`, { method: 'POST' });
    const globalAgent = (globalThis as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')] as object;
    const Agent = globalAgent.constructor as new (opts: unknown) => { close(): Promise<void> };
    const agent = new Agent({
      connect: {
        lookup: (host: string, _opts: unknown, cb: (err: Error) => void) =>
          cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host })),
      },
    });
    let failure;
    try {
      await fetch('http://idp.example.test/token', { method: 'POST', dispatcher: agent } as RequestInit);
      throw new Error('expected the lookup to fail');
    } catch (err) {
      failure = classifyFetchError(err);
    } finally {
      await agent.close();
    }
    expect(failure).toMatchObject({ kind: 'transient' });
    expect(failure.reason).toContain('ENOTFOUND');
  });

  it('an untrusted TLS certificate is permanent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'thv-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'),
        '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      const tls = createHttpsServer(
        { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
        faults.ok!,
      );
      started.push(tls);
      await listen(tls);
      let failure;
      try {
        await fetch(`https://127.0.0.1:${(tls.address() as AddressInfo).port}/token`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
        throw new Error('expected the certificate to be refused');
      } catch (err) {
        failure = classifyFetchError(err);
      }
      expect(failure.kind).toBe('permanent');
      expect(failure.reason).toContain('SELF_SIGNED');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
