import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { packageRoot } from '../core/package-root.js';
import type { Authenticator } from './auth-guard.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie, type UiSessions } from './ui-session.js';

/**
 * Everything a dashboard page may load comes from this origin; no inline script or style, no
 * frames, no form posts elsewhere (docs/dashboard.md#security).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
};

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the entry authenticator when `/?token=…` was exchanged for a session. */
    newUiSession?: string;
  }
}

/** The built dashboard (`npm run build` writes dist/ui), read once: a few dozen kilobytes. */
export function loadDashboardAssets(dir = join(packageRoot(), 'dist', 'ui')): Map<string, Buffer> | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) {
    if (CONTENT_TYPES[extname(name)]) files.set(name, readFileSync(join(dir, name)));
  }
  return files;
}

/**
 * Lets exactly `GET /` through the API's owner check without a credential, so a person who opens
 * the dashboard's address gets a page that says how to sign in, and `GET /?token=…` can trade a
 * login link for a session. Nothing but that one page is reachable this way.
 */
export function dashboardEntryAuthenticator(sessions: UiSessions): Authenticator {
  return {
    name: 'dashboard-entry',
    authenticate(request) {
      if (request.method !== 'GET') return undefined;
      const url = new URL(request.url, 'http://thv.invalid');
      if (url.pathname !== '/') return undefined;
      const token = url.searchParams.get('token');
      if (token) {
        const session = sessions.exchange(token);
        if (session) {
          request.newUiSession = session;
          return { via: 'login-link' };
        }
      }
      return { via: 'anonymous' };
    },
  };
}

/** `/` (the app or the sign-in page), `/ui/<asset>`, and sign-out. */
export function registerDashboard(app: FastifyInstance, sessions: UiSessions, assets: Map<string, Buffer> | undefined): void {
  const page = (reply: FastifyReply, status: number, html: string | Buffer) =>
    reply
      .status(status)
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(html);

  app.get('/', { schema: { hide: true } }, async (request: FastifyRequest, reply) => {
    const via = request.principal?.via;
    if (via === 'login-link' && request.newUiSession) {
      // The token leaves the address bar at once: the redirect drops it from the URL and history.
      return reply.status(303).header('set-cookie', sessionCookie(request.newUiSession)).header('referrer-policy', 'no-referrer').header('location', '/').send();
    }
    if (via === 'anonymous') {
      const tried = new URL(request.url, 'http://thv.invalid').searchParams.has('token');
      return page(reply, 401, signInPage(tried));
    }
    if (!assets) return page(reply, 503, simplePage('The dashboard is not built', 'Run <code>npm run build</code> in the thv package, then reload.'));
    return page(reply, 200, assets.get('index.html')!);
  });

  app.get<{ Params: { file: string } }>('/ui/:file', { schema: { hide: true } }, async (request, reply) => {
    const file = request.params.file;
    const body = assets?.get(file);
    const type = CONTENT_TYPES[extname(file)];
    if (!body || !type || file === 'index.html') return reply.status(404).type('text/plain').send('Not Found');
    return reply.header('content-security-policy', DASHBOARD_CSP).type(type).send(body);
  });

  app.post('/ui/logout', { schema: { hide: true } }, async (request, reply) => {
    const session = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (session) sessions.end(session);
    return reply.status(204).header('set-cookie', clearedSessionCookie()).send();
  });
}

function signInPage(triedToken: boolean): string {
  const why = triedToken
    ? 'That sign-in link was already used or has expired. Links work once, for five minutes.'
    : 'This dashboard belongs to the user who started <code>thv serve</code>.';
  return simplePage('Sign in to thv', `${why} Open the link printed by <code>thv serve</code>, or run <code>thv ui</code> to open a fresh one.`);
}

function simplePage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head><body><main><h1>${title}</h1><p>${body}</p></main></body></html>`;
}
