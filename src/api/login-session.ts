import { ThvError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** A browser login that has its URL and finishes (or fails) later, through the loopback callback. */
export interface LoginAttempt {
  authorizationUrl: string;
  completion: Promise<void>;
  cancel(reason?: string): void;
}

export type StartLogin = () => Promise<LoginAttempt>;

export type LoginState =
  | { status: 'idle' }
  | { status: 'pending'; authorizationUrl: string; startedAt: number }
  | { status: 'authenticated'; finishedAt: number }
  | { status: 'failed'; reason: string; finishedAt: number };

/**
 * The API's one login at a time (docs/api.md#headless-login): `begin` answers as soon as the authorization URL is
 * known and the rest happens in the background. A second `begin` while one is pending returns the
 * same URL instead of starting another flow on the same callback port.
 */
export class LoginSession {
  private state: LoginState = { status: 'idle' };
  private attempt: LoginAttempt | undefined;
  private starting: Promise<LoginAttempt> | undefined;

  constructor(
    private readonly startLogin: StartLogin,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  current(): LoginState {
    return this.state;
  }

  /** Resolves with the attempt in progress, starting one if there is none. */
  async begin(): Promise<{ attempt: LoginAttempt; started: boolean }> {
    if (this.attempt && this.state.status === 'pending') return { attempt: this.attempt, started: false };
    if (this.starting) return { attempt: await this.starting, started: false };
    this.starting = this.startLogin();
    let attempt: LoginAttempt;
    try {
      attempt = await this.starting;
    } finally {
      this.starting = undefined;
    }
    this.attempt = attempt;
    this.state = { status: 'pending', authorizationUrl: attempt.authorizationUrl, startedAt: this.now() };
    attempt.completion.then(
      () => this.settle(attempt, { status: 'authenticated', finishedAt: this.now() }),
      (err: unknown) => {
        const reason = failureReason(err);
        if (err instanceof ThvError) this.logger.warn({ reason }, 'registry login started through the API failed');
        else this.logger.error({ err }, 'registry login started through the API failed unexpectedly');
        this.settle(attempt, { status: 'failed', reason, finishedAt: this.now() });
      },
    );
    return { attempt, started: true };
  }

  /** Abandons a pending login (its callback port closes) and forgets the last outcome. */
  reset(reason = 'the login was cancelled by a logout'): void {
    const attempt = this.attempt;
    this.attempt = undefined;
    this.state = { status: 'idle' };
    attempt?.cancel(reason);
  }

  private settle(attempt: LoginAttempt, next: LoginState): void {
    // A logout (reset) or a newer attempt owns the state now; a late result must not overwrite it.
    if (this.attempt !== attempt) return;
    this.attempt = undefined;
    this.state = next;
  }
}

/** Only ThvError messages are written for users; anything else may hold internals. */
function failureReason(err: unknown): string {
  if (err instanceof ThvError) return err.hint ? `${err.message}: ${err.hint}` : err.message;
  return 'the login failed unexpectedly; see the server log';
}
