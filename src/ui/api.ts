/** Same-origin calls to the thv API; the session cookie goes along by itself (docs/dashboard.md). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    // The session ended (server restarted, expired): the sign-in page says what to do.
    location.assign('/');
    throw new ApiFailure(401, 'unauthorized', 'signed out');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const failure = (data ?? {}) as { code?: string; message?: string };
    throw new ApiFailure(response.status, failure.code ?? 'error', failure.message ?? `${method} ${path} failed with HTTP ${response.status}`);
  }
  return data as T;
}

export const get = <T,>(path: string) => api<T>('GET', path);
export const post = <T,>(path: string, body?: unknown) => api<T>('POST', path, body);
export const del = <T,>(path: string) => api<T>('DELETE', path);

export const enc = encodeURIComponent;
