import type { ErrorCode } from '../core/errors.js';
import { ThvError } from '../core/errors.js';
import { envText } from '../core/env.js';

/** Exit codes (docs/architecture.md#errors), mapped once from the error codes. */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, notFound: 4, unavailable: 5 } as const;

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  bad_request: EXIT.usage,
  ambiguous_name: EXIT.usage,
  config_invalid: EXIT.failure,
  not_found: EXIT.notFound,
  already_exists: EXIT.failure,
  registry_auth_required: EXIT.auth,
  auth_failed: EXIT.auth,
  secrets_locked: EXIT.auth,
  secrets_unavailable: EXIT.auth,
  secrets_corrupt: EXIT.failure,
  registry_unavailable: EXIT.unavailable,
  upstream_unavailable: EXIT.unavailable,
  registry_invalid_response: EXIT.unavailable,
  registry_legacy_format: EXIT.failure,
  port_in_use: EXIT.failure,
  runtime_unavailable: EXIT.failure,
  workload_failed: EXIT.failure,
  internal: EXIT.failure,
};

export function exitCodeFor(err: unknown): number {
  return err instanceof ThvError ? EXIT_BY_CODE[err.code] : EXIT.failure;
}

/** Attaches "failed to list servers" style context to an error on its way to the top. */
export class CommandFailure extends Error {
  constructor(
    readonly doing: string,
    readonly error: unknown,
  ) {
    super(`failed to ${doing}`);
  }
}

export async function failedTo<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof CommandFailure ? err : new CommandFailure(doing, err);
  }
}

/** One line for the user: `Error: failed to X: what went wrong: what to do next`. No stack trace. */
export function renderError(err: unknown, debug: boolean): { text: string; exitCode: number } {
  const doing = err instanceof CommandFailure ? err.doing : undefined;
  const inner = err instanceof CommandFailure ? err.error : err;
  const message = inner instanceof Error ? inner.message : String(inner);
  const hint = inner instanceof ThvError ? inner.hint : undefined;
  let text = `Error: ${doing ? `failed to ${doing}: ` : ''}${message}${hint ? `: ${hint}` : ''}\n`;
  // The first line stays exactly as documented; the underlying reason follows on its own line.
  const cause = inner instanceof ThvError && inner.cause instanceof Error ? inner.cause.message : undefined;
  if (cause && cause !== message) text += `  cause: ${cause}\n`;
  if (debug && inner instanceof Error) {
    text += `${inner.stack ?? ''}\n`;
    let cause = inner.cause;
    while (cause instanceof Error) {
      text += `caused by: ${cause.stack ?? cause.message}\n`;
      cause = cause.cause;
    }
  } else if (!(inner instanceof ThvError) && inner instanceof Error && envText(process.env, 'CI') !== 'true') {
    // An unexpected error is a bug in thv; say so without dumping a stack trace.
    text += 'This is unexpected; run again with --debug for details.\n';
  }
  return { text, exitCode: exitCodeFor(inner) };
}
