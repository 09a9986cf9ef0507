import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Authenticator } from './auth-guard.js';

/** The dashboard's session cookie (docs/dashboard.md#signing-in). */
export const SESSION_COOKIE = 'thv_session';
/** A login link must be used soon after it is printed; it is worth nothing afterwards. */
export const LOGIN_TOKEN_TTL_MS = 5 * 60_000;
/** A browser session lasts a working day at most; `thv ui` mints a new link in one step. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;
/** Bounds what an owner who clicks "open" a thousand times can make the server remember. */
const MAX_ENTRIES = 256;

/**
 * Login links and browser sessions of one `thv serve` process. The link's token is single-use and
 * short-lived because it travels in a URL (terminal scrollback, browser history); the session it
 * is exchanged for lives only in an HttpOnly, SameSite=Strict cookie that page scripts cannot read
 * and other sites cannot send. Only SHA-256 digests are kept, so a heap dump holds no credential.
 */
export class UiSessions {
  private readonly loginTokens = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  private readonly clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  /** A fresh single-use token for a login link (`/?token=…`). */
  issueLoginToken(): string {
    const token = randomBytes(32).toString('base64url');
    remember(this.loginTokens, digest(token), this.clock.now() + LOGIN_TOKEN_TTL_MS, this.clock.now());
    return token;
  }

  /** Trades a login token for a new session id; undefined when the token is unknown, used or expired. */
  exchange(token: string): string | undefined {
    const key = digest(token);
    const expires = this.loginTokens.get(key);
    this.loginTokens.delete(key);
    if (expires === undefined || expires <= this.clock.now()) return undefined;
    const session = randomBytes(32).toString('base64url');
    remember(this.sessions, digest(session), this.clock.now() + SESSION_TTL_MS, this.clock.now());
    return session;
  }

  isValidSession(session: string): boolean {
    const key = digest(session);
    for (const [known, expires] of this.sessions) {
      // Constant-time per entry: the digest of a guess must not leak through an early mismatch.
      if (timingSafeEqual(Buffer.from(known, 'hex'), Buffer.from(key, 'hex'))) {
        if (expires > this.clock.now()) return true;
        this.sessions.delete(known);
        return false;
      }
    }
    return false;
  }

  end(session: string): void {
    this.sessions.delete(digest(session));
  }

  /** The cookie authenticator for the API's guard: one more kind of owner credential. */
  authenticator(): Authenticator {
    return {
      name: 'session',
      authenticate: (request) => {
        const session = readCookie(request.headers.cookie, SESSION_COOKIE);
        return session && this.isValidSession(session) ? { via: 'session' } : undefined;
      },
    };
  }
}

export function sessionCookie(session: string): string {
  return `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (!text) return undefined;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function remember(map: Map<string, number>, key: string, expires: number, now: number): void {
  for (const [known, until] of map) if (until <= now) map.delete(known);
  while (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string);
  map.set(key, expires);
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
