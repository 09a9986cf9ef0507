import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshTokens } from '../../src/auth/oauth-client.js';
import { refreshGrant } from '../../src/auth/remote/token-client.js';

/**
 * A token endpoint that does what RFC 6749 §2.3.1 asks of a server and no more: base64-decode the
 * Basic credentials, split at the first ":", form-decode each part — and, like servers that compare
 * the id as registered, refuse an id that arrives with escapes an unreserved character never needs.
 */
const CLIENT_ID = 'pre-registered_client.v1';
const CLIENT_SECRET = 's3cret with space:colon+plus&amp%é';
let server: Server;
let tokenEndpoint: string;
const seen: string[] = [];

function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

function check(req: IncomingMessage): boolean {
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Basic ')) return false;
  const raw = Buffer.from(auth.slice(6), 'base64').toString('utf8');
  const i = raw.indexOf(':');
  const [user, pass] = [raw.slice(0, i), raw.slice(i + 1)];
  seen.push(user);
  // Unreserved characters (RFC 3986 §2.3 letters, digits, "-", ".", "_") are never escaped by widely used clients.
  if (/%2D|%2E|%5F/i.test(user)) return false;
  return formDecode(user) === CLIENT_ID && formDecode(pass) === CLIENT_SECRET;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const ok = check(req);
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(ok ? { access_token: 'at', token_type: 'Bearer', expires_in: 60 } : { error: 'invalid_client' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  tokenEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('client_secret_basic (RFC 6749 §2.3.1)', () => {
  it('the remote token client sends the id without escaping unreserved characters and the secret form-encoded', async () => {
    const tokens = await refreshGrant({ tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 'rt');
    expect(tokens.accessToken).toBe('at');
    expect(seen.at(-1)).toBe(CLIENT_ID);
  });

  it('the oauth4webapi-based client does the same', async () => {
    const issuer = { issuer: tokenEndpoint.replace('/token', ''), token_endpoint: tokenEndpoint };
    const tokens = await refreshTokens({ issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, authMethod: 'client_secret_basic' }, 'rt');
    expect(tokens.accessToken).toBe('at');
    expect(seen.at(-1)).toBe(CLIENT_ID);
  });
});
