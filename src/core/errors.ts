/**
 * One error hierarchy for every user-reachable failure (docs/architecture.md#errors). The CLI maps `code` to an exit
 * code in cli/errors.ts and the API maps it to an HTTP status in api/errors.ts; nothing else
 * switches on error types.
 */
export const ERROR_CODES = [
  'bad_request',
  'config_invalid',
  'not_found',
  'ambiguous_name',
  'already_exists',
  'registry_auth_required',
  'registry_unavailable',
  'upstream_unavailable',
  'registry_legacy_format',
  'registry_invalid_response',
  'auth_failed',
  'secrets_locked',
  'secrets_corrupt',
  'secrets_unavailable',
  'port_in_use',
  'runtime_unavailable',
  'workload_failed',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ThvErrorOptions {
  cause?: unknown;
  /** What the user should do next, printed after the message. */
  hint?: string;
}

export class ThvError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: ThvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThvError';
    this.code = code;
    this.hint = options.hint;
  }
}

export const LOGIN_HINT = 'Run `thv registry login` to authenticate.';

/**
 * The registry needs credentials we do not have (401/403, failed or abandoned login, rejected
 * refresh token, unreadable secrets). Callers must never answer it with cached data (docs/registry.md#caching-what-a-failing-registry-looks-like).
 */
export class RegistryAuthRequiredError extends ThvError {
  constructor(message = 'registry authentication required', options: ThvErrorOptions = {}) {
    super('registry_auth_required', message, { hint: LOGIN_HINT, ...options });
    this.name = 'RegistryAuthRequiredError';
  }
}

/** A non-2xx answer from a registry; `body` is at most 4 KiB. */
export class RegistryHTTPError extends ThvError {
  readonly status: number;
  readonly url: string;
  readonly body: string;

  constructor(status: number, url: string, body: string) {
    super(
      status === 401 || status === 403 ? 'registry_auth_required' : 'registry_unavailable',
      `registry ${redactUrl(url)} answered HTTP ${status}${summariseBody(body)}`,
    );
    this.name = 'RegistryHTTPError';
    this.status = status;
    this.url = url;
    this.body = body;
  }

  get isUnauthorized(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export function notFound(what: string, hint?: string): ThvError {
  return new ThvError('not_found', what, hint === undefined ? {} : { hint });
}

export function badRequest(message: string, hint?: string): ThvError {
  return new ThvError('bad_request', message, hint === undefined ? {} : { hint });
}

export function isThvError(err: unknown, code?: ErrorCode): err is ThvError {
  return err instanceof ThvError && (code === undefined || err.code === code);
}

/** Strips credentials and query strings, which may carry tokens, from a URL before it is shown. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) {
      if (/token|code|secret|key|password|verifier|state/i.test(key)) u.searchParams.set(key, 'REDACTED');
    }
    return u.toString();
  } catch {
    return raw;
  }
}

function summariseBody(body: string): string {
  const text = body.trim();
  if (!text) return '';
  if (/^\s*</.test(text)) return ' (an HTML page)';
  const oneLine = text.replace(/\s+/g, ' ');
  return `: ${oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine}`;
}

/** The text a user sees for any error: message, then the causes' messages, without stack traces. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.message;
}
