import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { AuthRetryingError } from '../../src/transport/upstream-credentials.js';
import { DEFAULT_MONITOR_TIMINGS, TokenMonitor, monitorTimingsFromEnv, type MonitorStatus, type TokenSet } from '../../src/auth/monitor.js';
import { refreshGrant } from '../../src/auth/remote/token-client.js';
import { ManualClock } from '../fixtures/manual-clock.js';

type Mode = 'pass' | 'html403' | 'invalid_grant' | '500';

/** A real token endpoint whose answer the test switches; it counts refresh grants. */
let server: Server;
let tokenEndpoint: string;
let mode: Mode = 'pass';
let grants = 0;
let issued = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      grants++;
      const params = new URLSearchParams(body);
      if (mode === 'html403') return void res.writeHead(403, { 'content-type': 'text/html' }).end('<html>WAF says no</html>');
      if (mode === '500') return void res.writeHead(500).end();
      if (mode === 'invalid_grant' || !params.get('refresh_token')?.startsWith('rt-')) {
        return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant' }));
      }
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ access_token: `at-${issued}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt-${issued}` }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  tokenEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  mode = 'pass';
  grants = 0;
  issued = 0;
});

interface Harness {
  monitor: TokenMonitor;
  clock: ManualClock;
  statuses: Array<[MonitorStatus, string]>;
  saved: TokenSet[];
  logs: string[];
}

const HINT = 'the stored client registration may be stale';

function harness(initial: Partial<TokenSet> = {}): Harness {
  const clock = new ManualClock();
  const statuses: Array<[MonitorStatus, string]> = [];
  const saved: TokenSet[] = [];
  const logs: string[] = [];
  const monitor = new TokenMonitor({
    initial: { accessToken: 'at-0', refreshToken: 'rt-0', expiresAt: clock.now() - 1, ...initial },
    refresh: (current, signal) => refreshGrant({ tokenEndpoint, clientId: 'c', now: () => clock.now() }, current.refreshToken!, signal),
    onTokens: (t) => void saved.push(t),
    onStatus: (status, context) => void statuses.push([status, context]),
    clock,
    timings: DEFAULT_MONITOR_TIMINGS,
    log: createLogger({ level: 'debug', format: 'json', write: (line) => void logs.push(line) }),
    permanentFailureHint: HINT,
    random: () => 0.5,
  });
  return { monitor, clock, statuses, saved, logs };
}

/** Drives the short retry to its end: every failed attempt leaves exactly one timer to advance. */
async function exhaustShortRetry(h: Harness): Promise<number[]> {
  const waits: number[] = [];
  const first = h.monitor.accessToken().catch((e: unknown) => e);
  expect(await first).toBeInstanceOf(AuthRetryingError);
  for (;;) {
    await h.clock.untilSleeping();
    if (h.statuses.length > 0) return waits;
    waits.push(await h.clock.advanceToNextTimer());
  }
}

/** Waits (event loop turns, never wall-clock time) until the monitor is idle on a timer or changed status. */
async function nextStep(h: Harness, statusesBefore: number): Promise<void> {
  for (let turns = 0; turns < 10_000; turns++) {
    if (h.clock.pending().length > 0 || h.statuses.length > statusesBefore) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error('the monitor neither slept nor changed status');
}

describe('token monitor (docs/remote-auth.md)', () => {
  it('concurrent callers share one refresh and the rotated refresh token is saved', async () => {
    const h = harness();
    const tokens = await Promise.all(Array.from({ length: 8 }, () => h.monitor.accessToken()));
    expect(new Set(tokens)).toEqual(new Set(['at-1']));
    expect(grants).toBe(1);
    expect(h.saved.map((t) => t.refreshToken)).toEqual(['rt-1']);
    expect(h.statuses).toEqual([]);
  });

  it('a fresh token is used without asking the token endpoint', async () => {
    const h = harness({ expiresAt: Date.UTC(2026, 0, 2) });
    expect(await h.monitor.accessToken()).toBe('at-0');
    expect(grants).toBe(0);
  });

  it('refreshes 30 s before expiry in the background', async () => {
    const h = harness({ expiresAt: Date.UTC(2026, 0, 1) + 120_000 });
    h.monitor.start();
    await h.clock.untilSleeping();
    expect(h.clock.pending()).toEqual([90_000]);
    await h.clock.advance(90_000);
    await h.clock.untilSleeping();
    expect(grants).toBe(1);
    expect(await h.monitor.accessToken()).toBe('at-1');
    h.monitor.stop();
  });

  it('a transient failure retries with backoff, then auth_retrying every 10 m, then recovers without user action', async () => {
    const h = harness();
    mode = 'html403';
    const waits = await exhaustShortRetry(h);
    expect(waits).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(grants).toBe(5);
    expect(h.statuses).toHaveLength(1);
    expect(h.statuses[0]![0]).toBe('auth_retrying');
    expect(h.statuses[0]![1]).toContain('HTML page');

    // Callers fail fast with the time of the next attempt, without a new request.
    const err = await h.monitor.accessToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthRetryingError);
    expect((err as AuthRetryingError).retryAfterSeconds).toBe(600);
    expect(grants).toBe(5);

    await h.clock.advance(600_000);
    await h.clock.untilSleeping();
    expect(grants).toBe(6);
    expect(h.statuses).toHaveLength(1);

    mode = 'pass';
    await h.clock.advance(600_000);
    await nextStep(h, 1);
    expect(h.statuses.at(-1)).toEqual(['running', '']);
    expect(await h.monitor.accessToken()).toBe('at-1');
    expect(h.logs.join('')).not.toContain(HINT);
  });

  it('a transient failure that outlasts the 24 h ceiling ends unauthenticated without the hint', async () => {
    const h = harness();
    mode = '500';
    await exhaustShortRetry(h);
    let ticks = 0;
    while (h.statuses.at(-1)![0] === 'auth_retrying') {
      const before = h.statuses.length;
      await h.clock.advanceToNextTimer();
      ticks++;
      await nextStep(h, before);
    }
    expect(ticks).toBe(144);
    expect(h.statuses.map((s) => s[0])).toEqual(['auth_retrying', 'unauthenticated']);
    expect(h.statuses[1]![1]).toMatch(/kept failing for 24h.*HTTP 500/);
    expect(h.logs.join('')).not.toContain(HINT);
    await expect(h.monitor.accessToken()).rejects.toMatchObject({ code: 'auth_failed' });
  });

  it('invalid_grant ends the session at once, with no retries, and logs the hint once', async () => {
    const h = harness();
    mode = 'invalid_grant';
    await Promise.all([h.monitor.accessToken().catch(() => undefined), h.monitor.accessToken().catch(() => undefined)]);
    expect(h.statuses).toHaveLength(1);
    expect(h.statuses[0]![0]).toBe('unauthenticated');
    expect(h.statuses[0]![1]).toContain('invalid_grant');
    await expect(h.monitor.accessToken()).rejects.toMatchObject({ code: 'auth_failed' });
    expect(await h.monitor.refreshAfterUnauthorized()).toBe(false);
    expect(grants).toBe(1);
    expect(h.clock.pending()).toEqual([]);
    expect(h.logs.join('').split(HINT)).toHaveLength(2);
  });

  it('no token reaches the log or the status context', async () => {
    const h = harness();
    mode = 'html403';
    await exhaustShortRetry(h);
    mode = 'invalid_grant';
    await h.clock.advance(600_000);
    await nextStep(h, 1);
    expect(h.statuses.at(-1)![0]).toBe('unauthenticated');
    const text = h.logs.join('') + JSON.stringify(h.statuses);
    expect(text).not.toMatch(/\b(at|rt)-\d/);
  });

  it('an upstream 401 while auth_retrying is an AuthRetryingError (→ 503 + Retry-After), not a plain refusal', async () => {
    const h = harness();
    mode = 'html403';
    await exhaustShortRetry(h);
    expect(h.monitor.state.status).toBe('auth_retrying');
    const err = await h.monitor.refreshAfterUnauthorized().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthRetryingError);
    expect((err as AuthRetryingError).retryAfterSeconds).toBe(600);
    // Fail fast: no extra grant outside the 10 m cadence.
    expect(grants).toBe(5);
  });

  it('an upstream 401 forces one shared refresh even when the token looks fresh', async () => {
    const h = harness({ expiresAt: Date.UTC(2026, 0, 2) });
    const results = await Promise.all([h.monitor.refreshAfterUnauthorized(), h.monitor.refreshAfterUnauthorized()]);
    expect(results).toEqual([true, true]);
    expect(grants).toBe(1);
    expect(await h.monitor.accessToken()).toBe('at-1');
  });
});

describe('timings from the environment', () => {
  it('accepts Go-style durations and ignores invalid ones, saying so', () => {
    const invalid: string[] = [];
    const t = monitorTimingsFromEnv(
      {
        TOOLHIVE_TOKEN_REFRESH_INITIAL_RETRY_INTERVAL: '250ms',
        TOOLHIVE_TOKEN_REFRESH_MAX_RETRY_INTERVAL: '1m30s',
        TOOLHIVE_TOKEN_REFRESH_MAX_TRIES: '2',
        TOOLHIVE_TOKEN_REFRESH_MAX_ELAPSED_TIME: 'soon',
        TOOLHIVE_TOKEN_AUTH_RETRYING_TICK_INTERVAL: '1h30m',
        TOOLHIVE_TOKEN_AUTH_RETRYING_MAX_ELAPSED: '-5s',
      },
      (name) => invalid.push(name),
    );
    expect(t).toMatchObject({
      initialRetryIntervalMs: 250,
      maxRetryIntervalMs: 90_000,
      maxTries: 2,
      maxElapsedMs: DEFAULT_MONITOR_TIMINGS.maxElapsedMs,
      retryingTickMs: 5_400_000,
      retryingMaxElapsedMs: DEFAULT_MONITOR_TIMINGS.retryingMaxElapsedMs,
    });
    expect(invalid.sort()).toEqual(['TOOLHIVE_TOKEN_AUTH_RETRYING_MAX_ELAPSED', 'TOOLHIVE_TOKEN_REFRESH_MAX_ELAPSED_TIME']);
  });

  it('a max-tries value that is not a positive integer is ignored', () => {
    const invalid: string[] = [];
    expect(monitorTimingsFromEnv({ TOOLHIVE_TOKEN_REFRESH_MAX_TRIES: 'many' }, (n) => invalid.push(n)).maxTries).toBe(5);
    expect(invalid).toEqual(['TOOLHIVE_TOKEN_REFRESH_MAX_TRIES']);
  });
});
