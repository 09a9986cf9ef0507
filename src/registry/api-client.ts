import { RegistryHTTPError, ThvError, redactUrl } from '../core/errors.js';
import { readBodyLimited } from '../core/http.js';
import type { ServerJson } from './types.js';

/** What a success body may weigh: a page of 100 servers is far below this. */
export const MAX_SUCCESS_BODY_BYTES = 16 * 1024 * 1024;
/** Error bodies are read only this far (docs/registry.md, limits). */
export const MAX_ERROR_BODY_BYTES = 4 * 1024;
export const DEFAULT_MAX_SERVERS = 10_000;
const PAGE_SIZE = 100;

export interface RegistryApiClientOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  /** Extra request headers, e.g. `Authorization`; called before every request. */
  headers?: () => Promise<Record<string, string>>;
  maxServers?: number;
  maxBodyBytes?: number;
  timeoutMs?: number;
  /** Called after each page with the number of servers fetched so far. */
  onProgress?: (fetched: number) => void;
}

interface ServerListBody {
  servers: Array<{ server: ServerJson; _meta?: Record<string, unknown> }>;
  metadata?: { nextCursor?: string | null; next_cursor?: string | null; count?: number };
}

/** A client of the MCP Registry API v0.1 (`/v0.1/servers`, `/v0.1/servers/{name}/versions/latest`). */
export class RegistryApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: RegistryApiClientOptions) {
    this.baseUrl = parseBaseUrl(options.baseUrl);
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Every server (latest versions), following cursors until they run out or the cap is reached. */
  async listServers(): Promise<ServerJson[]> {
    const cap = this.options.maxServers ?? DEFAULT_MAX_SERVERS;
    const servers: ServerJson[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    do {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE), version: 'latest' });
      if (cursor) params.set('cursor', cursor);
      const page = await this.getServerList(`${this.baseUrl}/v0.1/servers?${params}`);
      for (const item of page.servers) servers.push(withRegistryMeta(item));
      this.options.onProgress?.(servers.length);
      if (servers.length >= cap) {
        servers.length = cap;
        break;
      }
      cursor = page.metadata?.nextCursor || page.metadata?.next_cursor || undefined;
      // A registry that hands back a cursor it already gave would otherwise loop until the cap.
      if (cursor && seenCursors.has(cursor)) break;
      if (cursor) seenCursors.add(cursor);
    } while (cursor);
    return servers;
  }

  async getServer(name: string): Promise<ServerJson> {
    const url = `${this.baseUrl}/v0.1/servers/${encodeURIComponent(name)}/versions/latest`;
    const body = await this.getJson(url);
    const item = body as { server?: ServerJson; _meta?: Record<string, unknown> };
    if (!item || typeof item !== 'object' || !item.server || typeof item.server.name !== 'string') {
      throw invalid(url, 'expected an object with a `server`');
    }
    return withRegistryMeta(item as { server: ServerJson });
  }

  /** Server-side search by name (substring), one page of at most 100 results. */
  async searchServers(query: string): Promise<ServerJson[]> {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), version: 'latest', search: query });
    const page = await this.getServerList(`${this.baseUrl}/v0.1/servers?${params}`);
    return page.servers.map(withRegistryMeta);
  }

  private async getServerList(url: string): Promise<ServerListBody> {
    const body = await this.getJson(url);
    if (!isServerList(body)) throw invalid(url, 'expected `{"servers": [...], "metadata": {...}}`');
    return body;
  }

  private async getJson(url: string): Promise<unknown> {
    const headers = { Accept: 'application/json', ...(await this.options.headers?.()) };
    const res = await this.fetchImpl(url, {
      headers,
      redirect: 'follow',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    if (!res.ok) {
      const body = await readBodyLimited(res, MAX_ERROR_BODY_BYTES, { truncate: true }).catch(() => '');
      throw new RegistryHTTPError(res.status, url, body);
    }
    const text = await readBodyLimited(res, this.options.maxBodyBytes ?? MAX_SUCCESS_BODY_BYTES);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw invalid(url, `the body is not JSON (${(err as Error).message})`);
    }
  }
}

function isServerList(body: unknown): body is ServerListBody {
  if (!body || typeof body !== 'object') return false;
  const servers = (body as ServerListBody).servers;
  return Array.isArray(servers) && servers.every((s) => s && typeof s === 'object' && s.server && typeof s.server.name === 'string');
}

/** Registry-managed `_meta` (status, publishedAt…) is kept beside the publisher's own `_meta`. */
function withRegistryMeta(item: { server: ServerJson; _meta?: Record<string, unknown> }): ServerJson {
  if (!item._meta) return item.server;
  return { ...item.server, _meta: { ...item._meta, ...item.server._meta } };
}

function invalid(url: string, why: string): ThvError {
  return new ThvError('registry_invalid_response', `registry ${redactUrl(url)} sent an invalid response: ${why}`);
}

/** An empty or malformed base URL is a configuration error, never a crash deep in fetch. */
export function parseBaseUrl(raw: string): string {
  const text = (raw ?? '').trim();
  if (!text) {
    throw new ThvError('config_invalid', 'the registry API URL is empty', {
      hint: 'Set one with `thv config set-registry <url>` or remove it with `thv config unset-registry`.',
    });
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ThvError('config_invalid', `the registry API URL \`${text}\` is not a valid URL`, {
      hint: 'Use a full URL such as https://registry.example.com.',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ThvError('config_invalid', `the registry API URL \`${text}\` must use http or https`);
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}
