import type { ErrorCode } from '../core/errors.js';
import { ThvError } from '../core/errors.js';

/**
 * The API's one error → HTTP table (docs/api.md#errors, docs/architecture.md#errors). Handlers throw ThvError; this module alone decides
 * the status and the `{code, message}` body. Codes beyond ErrorCode belong to the HTTP layer itself
 * (host check, body limit) and never come from a service.
 */
export type ApiErrorCode = ErrorCode | 'unauthorized' | 'forbidden' | 'not_implemented' | 'payload_too_large' | 'unsupported_media_type' | 'method_not_allowed';

export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
}

export const LOGIN_ROUTE = '/api/v1beta/registry/auth/login';

const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  ambiguous_name: 400,
  not_found: 404,
  already_exists: 409,
  port_in_use: 409,
  config_invalid: 500,
  registry_auth_required: 503,
  registry_unavailable: 503,
  upstream_unavailable: 502,
  registry_legacy_format: 502,
  registry_invalid_response: 502,
  // The identity provider is the upstream that failed: a gateway error, not the caller's.
  auth_failed: 502,
  secrets_locked: 503,
  secrets_unavailable: 503,
  secrets_corrupt: 500,
  runtime_unavailable: 503,
  workload_failed: 500,
  internal: 500,
};

/**
 * CLI hints name CLI commands; an API client needs the route instead. The server itself lacks the
 * registry credential, so the client is told how to give it one (docs/api.md#headless-login).
 */
const API_HINT_BY_CODE: Partial<Record<ErrorCode, string>> = {
  registry_auth_required: `POST ${LOGIN_ROUTE} to authenticate the API server with the registry.`,
  // The CLI's hint names `thv logs`; an API client reads the same output over HTTP.
  workload_failed: 'GET /api/v1beta/workloads/{name}/logs shows the server output.',
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function forbidden(message: string): ApiError {
  return new ApiError(403, 'forbidden', message);
}

export function httpStatusFor(code: ErrorCode): number {
  return HTTP_STATUS_BY_CODE[code];
}

/** Fastify's own failures (parsing, validation, limits) carry a status and a safe message. */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: unknown;
}

const FRAMEWORK_CODES: Record<number, ApiErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * Turns anything thrown into a status and a body that never carries internals: unknown errors
 * become 500 `internal` with a fixed message (the details go to the log, not the client).
 */
export function toApiError(err: unknown): { status: number; body: ApiErrorBody; expected: boolean } {
  if (err instanceof ApiError) return { status: err.status, body: { code: err.code, message: err.message }, expected: true };
  if (err instanceof ThvError) {
    const hint = API_HINT_BY_CODE[err.code] ?? err.hint;
    return {
      status: httpStatusFor(err.code),
      body: { code: err.code, message: hint ? `${err.message}: ${hint}` : err.message },
      expected: true,
    };
  }
  const framework = err as FrameworkError | undefined;
  const status = framework?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = FRAMEWORK_CODES[status] ?? 'bad_request';
    const message = framework?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
      ? 'request body is not valid JSON'
      : (framework?.message ?? 'bad request');
    return { status: code === 'bad_request' ? 400 : status, body: { code, message }, expected: true };
  }
  return { status: 500, body: { code: 'internal', message: 'internal server error' }, expected: false };
}
