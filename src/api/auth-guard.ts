import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/**
 * Who may use the API (docs/api.md#who-may-call-it). The API runs workloads as its owner and hands
 * out their logs, so every request must prove it comes from the owner. Each authenticator knows one
 * kind of credential; a request is let in when any of them recognises it. A later credential type
 * (e.g. the dashboard's session cookie) is one more entry in the list, not a change to the guard.
 */
export interface Principal {
  /** Which authenticator let the request in (`socket`, `bearer`, …); never the credential itself. */
  via: string;
}

export interface Authenticator {
  readonly name: string;
  /** The principal the request proves, or undefined when it carries no credential of this kind. */
  authenticate(request: FastifyRequest): Principal | undefined | Promise<Principal | undefined>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** A fresh token for one server run: 256 random bits, URL-safe. */
export function newApiToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * `Authorization: Bearer <token>`. Compared as SHA-256 digests with timingSafeEqual, so neither
 * the length nor the content of the expected token leaks through timing.
 */
export function bearerTokenAuthenticator(token: string): Authenticator {
  if (token.length < 16) throw new Error('API token too short');
  const expected = digest(token);
  return {
    name: 'bearer',
    authenticate(request) {
      const header = request.headers.authorization;
      if (typeof header !== 'string') return undefined;
      const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
      if (!match) return undefined;
      return timingSafeEqual(digest(match[1]!), expected) ? { via: 'bearer' } : undefined;
    },
  };
}

/**
 * A connection on the API's unix socket. The kernel already checked the caller: the socket is 0600
 * in a 0700 folder, so only its owner (and root) can connect. A TCP connection never passes here.
 */
export function unixSocketAuthenticator(): Authenticator {
  return {
    name: 'socket',
    authenticate(request) {
      return isUnixSocketRequest(request) ? { via: 'socket' } : undefined;
    },
  };
}

/** A request that arrived over a unix socket has no peer address (TCP ones always have one). */
export function isUnixSocketRequest(request: FastifyRequest): boolean {
  const socket = request.raw.socket as { remoteAddress?: string; remoteFamily?: string } | undefined;
  return Boolean(socket) && socket!.remoteAddress === undefined && socket!.remoteFamily === undefined;
}

/**
 * Refuses every request no authenticator recognises with 401 before routing, so unknown routes,
 * `/health` and the OpenAPI document are covered too.
 */
export function installAuthGuard(app: FastifyInstance, authenticators: readonly Authenticator[]): void {
  if (authenticators.length === 0) throw new Error('the API needs at least one authenticator');
  app.addHook('onRequest', async (request, reply) => {
    for (const authenticator of authenticators) {
      const principal = await authenticator.authenticate(request);
      if (principal) {
        request.principal = principal;
        return;
      }
    }
    reply.header('www-authenticate', 'Bearer realm="thv"');
    throw new ApiError(
      401,
      'unauthorized',
      'this API needs `Authorization: Bearer <token>`; the token is in $XDG_STATE_HOME/toolhive/server/server.json (readable by the user who runs thv serve only)',
    );
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
