import { ThvError, redactUrl } from './errors.js';

/**
 * Reads a response body through a byte limit, so a misbehaving server cannot exhaust memory.
 * Over the limit, the stream is cancelled and `onOverflow` decides the error (or the text is cut
 * when `truncate` is set, as for error bodies).
 */
export async function readBodyLimited(
  res: Response,
  limit: number,
  options: { truncate?: boolean } = {},
): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (!options.truncate && Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(res.url, limit);
  }
  const { text, overflowed } = await readUpTo(res, limit);
  if (overflowed && !options.truncate) throw tooLarge(res.url, limit);
  return text;
}

/** Reads at most `limit` bytes of a body; undefined when the body is larger. */
export async function readBodyWithin(res: Response, limit: number): Promise<string | undefined> {
  const { text, overflowed } = await readUpTo(res, limit);
  return overflowed ? undefined : text;
}

/** The first `limit` bytes of a body, and whether there was more (the rest is never read). */
async function readUpTo(res: Response, limit: number): Promise<{ text: string; overflowed: boolean }> {
  if (!res.body) return { text: '', overflowed: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let overflowed = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      overflowed = true;
      chunks.push(value.subarray(0, value.byteLength - (size - limit)));
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), overflowed };
}

function tooLarge(url: string, limit: number): ThvError {
  return new ThvError(
    'registry_invalid_response',
    `the response from ${redactUrl(url)} is larger than the ${Math.round(limit / 1024 / 1024)} MiB limit`,
  );
}

/** True for failures that say nothing about credentials: the network or the server is unwell. */
export function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  if (err instanceof TypeError && /fetch failed|terminated|network/i.test(err.message)) return true;
  const code = (err as { code?: string }).code ?? (err.cause as { code?: string } | undefined)?.code;
  return typeof code === 'string' && /^(ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|UND_ERR)/.test(code);
}

/** A short, safe description of a network failure: "connection refused (ECONNREFUSED)". */
export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  const code = (err as { code?: string }).code ?? cause?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'DNS lookup failed',
    ETIMEDOUT: 'timed out',
    UND_ERR_SOCKET: 'connection closed',
    UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for headers',
    UND_ERR_BODY_TIMEOUT: 'timed out reading the body',
  };
  if (err.name === 'TimeoutError') return 'timed out';
  if (code) return `${words[code] ?? 'network error'} (${code})`;
  return cause?.message ?? err.message;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A fetch whose responses are read through `limit` before the caller sees them, for libraries that
 * read bodies themselves (oauth4webapi): a hostile endpoint cannot make them buffer without bound.
 */
export function fetchWithBodyLimit(fetchImpl: typeof fetch, limit: number): typeof fetch {
  return async (input, init) => {
    const res = await fetchImpl(input, init);
    const text = await readBodyWithin(res, limit);
    if (text === undefined) {
      throw new ThvError('auth_failed', `the response from ${redactUrl(res.url)} is larger than ${Math.round(limit / 1024)} KiB`);
    }
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(NULL_BODY_STATUSES.has(res.status) ? null : text, { status: res.status, statusText: res.statusText, headers });
  };
}
