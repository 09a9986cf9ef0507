import type { Clock } from '../core/clock.js';
import { envCount, envDuration, type Env } from '../core/env.js';
import type { Logger } from '../core/log.js';
import { ThvError } from '../core/errors.js';
import { AuthRetryingError } from '../transport/upstream-credentials.js';
import { classifyFetchError, type RefreshFailure } from './classify.js';

/** A usable credential; `expiresAt` is ms since the epoch. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
}

/** The monitor's timings, all in ms (docs/remote-auth.md#the-monitor-srcauthmonitorts). */
export interface MonitorTimings {
  initialRetryIntervalMs: number;
  maxRetryIntervalMs: number;
  maxTries: number;
  maxElapsedMs: number;
  retryingTickMs: number;
  retryingMaxElapsedMs: number;
  /** Refresh this long before the access token expires. */
  refreshSkewMs: number;
}

export const DEFAULT_MONITOR_TIMINGS: MonitorTimings = {
  initialRetryIntervalMs: 10_000,
  maxRetryIntervalMs: 120_000,
  maxTries: 5,
  maxElapsedMs: 300_000,
  retryingTickMs: 600_000,
  retryingMaxElapsedMs: 86_400_000,
  refreshSkewMs: 30_000,
};

/** Env overrides of the timings (src/core/env.ts); an invalid value is reported through `onInvalid` and ignored. */
export function monitorTimingsFromEnv(env: Env, onInvalid?: (name: string, value: string) => void): MonitorTimings {
  const d = DEFAULT_MONITOR_TIMINGS;
  const options = onInvalid ? { onInvalid } : {};
  return {
    initialRetryIntervalMs: envDuration(env, 'TOOLHIVE_TOKEN_REFRESH_INITIAL_RETRY_INTERVAL', d.initialRetryIntervalMs, options),
    maxRetryIntervalMs: envDuration(env, 'TOOLHIVE_TOKEN_REFRESH_MAX_RETRY_INTERVAL', d.maxRetryIntervalMs, options),
    maxTries: envCount(env, 'TOOLHIVE_TOKEN_REFRESH_MAX_TRIES', d.maxTries, onInvalid),
    maxElapsedMs: envDuration(env, 'TOOLHIVE_TOKEN_REFRESH_MAX_ELAPSED_TIME', d.maxElapsedMs, options),
    retryingTickMs: envDuration(env, 'TOOLHIVE_TOKEN_AUTH_RETRYING_TICK_INTERVAL', d.retryingTickMs, options),
    retryingMaxElapsedMs: envDuration(env, 'TOOLHIVE_TOKEN_AUTH_RETRYING_MAX_ELAPSED', d.retryingMaxElapsedMs, options),
    refreshSkewMs: d.refreshSkewMs,
  };
}

export type MonitorStatus = 'running' | 'auth_retrying' | 'unauthenticated';

export interface TokenMonitorOptions {
  initial: TokenSet;
  /** One refresh grant; throws TokenRequestError (classified) or whatever fetch threw. */
  refresh(current: TokenSet, signal: AbortSignal): Promise<TokenSet>;
  /** Told of every new token set, so a rotated refresh token is persisted on every path. */
  onTokens?(tokens: TokenSet): Promise<void> | void;
  /** Told of every status change; the context is safe to store (no tokens). */
  onStatus(status: MonitorStatus, context: string): void;
  clock: Clock;
  timings?: MonitorTimings;
  log: Logger;
  /** Logged once, and only when a permanent failure ends the session (e.g. stale DCR credentials). */
  permanentFailureHint?: string;
  /**
   * Told, just before the status turns `unauthenticated`, that the authorization server refused the
   * refresh (or there is nothing to refresh with): the tokens are dead, so the owner forgets them and
   * the next start logs in afresh (docs/remote-auth.md#after-a-refresh-token-dies). Not told when
   * transient failures outlast the ceiling: the refresh token may still be good. Must not throw.
   */
  onSessionRefused?(): void;
  /** Jitter source in [0, 1); tests make it fixed. */
  random?: () => number;
}

const NO_REFRESH_TOKEN: RefreshFailure = { kind: 'permanent', reason: 'the access token expired and there is no refresh token' };

type Phase = { name: 'idle' } | { name: 'short'; since: number; tries: number } | { name: 'retrying'; since: number };

/**
 * Keeps one upstream access token fresh (docs/remote-auth.md): refreshes before expiry, shares one refresh
 * among all callers, retries transient failures briefly and then on a long cadence (`auth_retrying`)
 * up to a ceiling, and stops at the first permanent failure (`unauthenticated`).
 */
export class TokenMonitor {
  private tokens: TokenSet;
  private obtainedAt: number;
  private status: MonitorStatus = 'running';
  private statusContext = '';
  private phase: Phase = { name: 'idle' };
  /** The refresh attempt in flight, shared by every caller that needs a token now. */
  private attempt: Promise<TokenSet> | undefined;
  /** The retry loop in progress (short retry, then auth_retrying), at most one. */
  private cycle: Promise<void> | undefined;
  private nextAttemptAt = 0;
  private lastFailure: RefreshFailure | undefined;
  private hintLogged = false;
  private readonly abort = new AbortController();
  private readonly timings: MonitorTimings;
  private readonly random: () => number;
  private started = false;

  constructor(private readonly options: TokenMonitorOptions) {
    this.tokens = options.initial;
    this.obtainedAt = options.clock.now();
    this.timings = options.timings ?? DEFAULT_MONITOR_TIMINGS;
    this.random = options.random ?? Math.random;
  }

  /** Starts the background refresh before expiry. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.watchExpiry().catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.options.log.error({ err: (err as Error).message }, 'token monitor stopped unexpectedly');
    });
  }

  stop(): void {
    this.abort.abort(new Error('token monitor stopped'));
  }

  get state(): { status: MonitorStatus; context: string } {
    return { status: this.status, context: this.statusContext };
  }

  /**
   * The access token to send now. Waits for a refresh that is in flight; while the monitor is
   * retrying, throws AuthRetryingError at once so the proxy can answer 503 + Retry-After.
   */
  async accessToken(): Promise<string> {
    this.throwIfUnauthenticated();
    if (this.isFresh(this.tokens)) return this.tokens.accessToken;
    return (await this.sharedRefresh()).accessToken;
  }

  /**
   * After the upstream rejected the token: one refresh (shared), true when a new token is ready,
   * false when the session is over. While a retry is scheduled (short retry or `auth_retrying`) it
   * throws AuthRetryingError, so the proxy answers 503 + Retry-After rather than a 401 that tells
   * the client its own credentials are wrong.
   */
  async refreshAfterUnauthorized(): Promise<boolean> {
    if (this.status === 'unauthenticated') return false;
    if (!this.tokens.refreshToken) return false;
    try {
      await this.sharedRefresh(true);
      return true;
    } catch (err) {
      if (err instanceof AuthRetryingError) throw err;
      return false;
    }
  }

  private isFresh(tokens: TokenSet): boolean {
    return tokens.expiresAt === undefined || this.options.clock.now() < tokens.expiresAt - Math.min(this.timings.refreshSkewMs, 1000);
  }

  private throwIfUnauthenticated(): void {
    // A permanent failure ends the session even before the cycle has recorded the status.
    const reason = this.status === 'unauthenticated' ? this.statusContext : this.lastFailure?.kind === 'permanent' ? this.lastFailure.reason : undefined;
    if (reason !== undefined) {
      throw new ThvError('auth_failed', `not authenticated to the remote server: ${reason}`, {
        hint: 'Restart the workload to log in again.',
      });
    }
  }

  /** Joins the refresh in flight or starts one; rejects with AuthRetryingError while retrying. */
  private async sharedRefresh(force = false): Promise<TokenSet> {
    if (!this.cycle) {
      if (!force && this.isFresh(this.tokens)) return this.tokens;
      this.startCycle();
    }
    const attempt = this.attempt;
    if (attempt) {
      try {
        return await attempt;
      } catch {
        // Classified and handled by the cycle; callers only learn whether to come back later.
      }
    }
    this.throwIfUnauthenticated();
    if (!this.cycle && this.isFresh(this.tokens)) return this.tokens;
    const waitMs = Math.max(1000, this.nextAttemptAt - this.options.clock.now());
    throw new AuthRetryingError(Math.ceil(waitMs / 1000), `authentication with the remote server is being retried: ${this.lastFailure?.reason ?? 'refresh failed'}`);
  }

  private startCycle(): void {
    const cycle = this.runCycle().finally(() => {
      if (this.cycle === cycle) this.cycle = undefined;
    });
    this.cycle = cycle;
    cycle.catch(() => undefined);
  }

  private async watchExpiry(): Promise<void> {
    const { clock } = this.options;
    while (!this.abort.signal.aborted && this.status !== 'unauthenticated') {
      if (this.cycle) {
        await this.cycle;
        continue;
      }
      const expiresAt = this.tokens.expiresAt;
      if (expiresAt === undefined || !this.tokens.refreshToken) return;
      // A lifetime shorter than twice the skew would make the monitor refresh without pause.
      const skew = Math.min(this.timings.refreshSkewMs, Math.max(0, (expiresAt - this.obtainedAt) / 2));
      const due = expiresAt - skew - clock.now();
      if (due > 0) {
        await clock.sleep(due, this.abort.signal);
        continue;
      }
      this.startCycle();
    }
  }

  private async runCycle(): Promise<void> {
    const { clock, log } = this.options;
    this.phase = { name: 'short', since: clock.now(), tries: 0 };
    for (;;) {
      if (this.abort.signal.aborted) return;
      const outcome = await this.tryOnce();
      if (outcome === 'ok') {
        this.phase = { name: 'idle' };
        if (this.status !== 'running') {
          log.info('token refresh recovered; the workload is running again');
          this.setStatus('running', '');
        }
        return;
      }
      const failure = outcome;
      if (failure.kind === 'permanent') {
        // Told first, and not waited for: the status must not lag behind the refusal.
        this.options.onSessionRefused?.();
        // Nothing was refused when there was nothing to send, so the stale-client hint would mislead.
        this.endSession(failure.reason, failure !== NO_REFRESH_TOKEN);
        return;
      }
      let delay: number;
      const phase = this.phase;
      if (phase.name === 'short') {
        phase.tries++;
        delay = this.backoff(phase.tries, failure);
        const elapsed = clock.now() - phase.since;
        log.warn({ reason: failure.reason, attempt: phase.tries }, 'token refresh failed; retrying');
        if (phase.tries >= this.timings.maxTries || elapsed + delay > this.timings.maxElapsedMs) {
          this.phase = { name: 'retrying', since: clock.now() };
          delay = this.timings.retryingTickMs;
          this.setStatus('auth_retrying', `token refresh keeps failing (${failure.reason}); retrying every ${formatMs(delay)}`);
        }
      } else if (phase.name === 'retrying') {
        const left = phase.since + this.timings.retryingMaxElapsedMs - clock.now();
        if (left <= 0) {
          this.endSession(`token refresh kept failing for ${formatMs(this.timings.retryingMaxElapsedMs)}; last: ${failure.reason}`, false);
          return;
        }
        log.warn({ reason: failure.reason }, 'token refresh still failing');
        delay = Math.min(this.timings.retryingTickMs, left);
      } else {
        return;
      }
      this.nextAttemptAt = clock.now() + delay;
      await clock.sleep(delay, this.abort.signal).catch(() => undefined);
    }
  }

  /** One refresh grant, published as `attempt` so that concurrent callers share it. */
  private async tryOnce(): Promise<'ok' | RefreshFailure> {
    const current = this.tokens;
    if (!current.refreshToken) {
      return NO_REFRESH_TOKEN;
    }
    const attempt = this.options.refresh(current, this.abort.signal);
    this.attempt = attempt;
    attempt.catch(() => undefined);
    try {
      const next = await attempt;
      // Some IdPs do not rotate: keep the refresh token we have.
      this.tokens = { ...next, ...(next.refreshToken ? {} : current.refreshToken ? { refreshToken: current.refreshToken } : {}) };
      this.obtainedAt = this.options.clock.now();
      this.lastFailure = undefined;
      try {
        await this.options.onTokens?.(this.tokens);
      } catch (err) {
        this.options.log.warn({ err: (err as Error).message }, 'could not save the refreshed tokens');
      }
      return 'ok';
    } catch (err) {
      const failure = classifyFetchError(err);
      this.lastFailure = failure;
      return failure;
    } finally {
      if (this.attempt === attempt) this.attempt = undefined;
    }
  }

  private backoff(tries: number, failure: RefreshFailure): number {
    const base = Math.min(this.timings.maxRetryIntervalMs, this.timings.initialRetryIntervalMs * 2 ** (tries - 1));
    // ±50 % jitter so that many workloads behind one IdP do not retry in lockstep.
    const jittered = base * (0.5 + this.random());
    const wanted = Math.max(jittered, failure.retryAfterMs ?? 0);
    return Math.round(Math.min(this.timings.maxRetryIntervalMs, wanted));
  }

  private endSession(reason: string, permanent: boolean): void {
    this.phase = { name: 'idle' };
    this.options.log.error({ reason }, 'token refresh failed; the workload needs a new login');
    if (permanent && this.options.permanentFailureHint && !this.hintLogged) {
      this.hintLogged = true;
      this.options.log.warn(this.options.permanentFailureHint);
    }
    this.setStatus('unauthenticated', reason);
  }

  private setStatus(status: MonitorStatus, context: string): void {
    this.status = status;
    this.statusContext = context;
    this.options.onStatus(status, context);
  }
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
