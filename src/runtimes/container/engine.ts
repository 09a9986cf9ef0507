import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { ThvError } from '../../core/errors.js';

/**
 * A Docker Engine API client over a unix socket, on `node:http` alone (docs/runtimes.md, "Engine
 * client"): every engine thv supports (Docker, Podman's compat service, Colima, Rancher Desktop,
 * OrbStack) speaks this API, and the few calls thv makes do not justify dockerode's dependency tree
 * (docker-modem, ssh2, tar-fs) in a CLI that starts on every command.
 */
export interface EngineVersion {
  /** `Docker Engine - Community`, `Podman Engine`… */
  name: string;
  version: string;
  apiVersion: string;
  os?: string;
  arch?: string;
}

/** A non-2xx answer from the engine, with the engine's own message. */
export class EngineHttpError extends Error {
  constructor(
    readonly status: number,
    readonly engineMessage: string,
    readonly path: string,
  ) {
    super(`the container engine answered HTTP ${status} to ${path.split('?')[0]}: ${engineMessage}`);
    this.name = 'EngineHttpError';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Raw bodies (a build context) are streamed as is. */
  raw?: Readable | Buffer;
  headers?: Record<string, string>;
  /** The default 60 s; long streams (pulls, builds) pass 0 (none). */
  timeoutMs?: number;
}

/** The API version thv asks for when the engine does not say: the oldest with every field thv uses. */
const FALLBACK_API_VERSION = '1.41';

export class EngineClient {
  private apiVersion: string | undefined;

  constructor(readonly socketPath: string) {}

  /** GET /version (unversioned), which also fixes the API version used for every later call. */
  async version(): Promise<EngineVersion> {
    const { json } = await this.requestJson<Record<string, unknown>>('GET', '/version', {}, false);
    const components = Array.isArray(json.Components) ? (json.Components as Array<Record<string, unknown>>) : [];
    const engine = components.find((c) => typeof c.Name === 'string' && /engine/i.test(c.Name));
    const platform = (json.Platform as { Name?: string } | undefined)?.Name;
    this.apiVersion = typeof json.ApiVersion === 'string' ? json.ApiVersion : FALLBACK_API_VERSION;
    return {
      name: (engine?.Name as string | undefined) ?? platform ?? 'Docker Engine',
      version: String(json.Version ?? engine?.Version ?? 'unknown'),
      apiVersion: this.apiVersion,
      ...(typeof json.Os === 'string' ? { os: json.Os } : {}),
      ...(typeof json.Arch === 'string' ? { arch: json.Arch } : {}),
    };
  }

  /**
   * GET /_ping, which also tells the API version (the Api-Version header): /version is slow on
   * Podman (it asks conmon and the OCI runtime for theirs), so only `thv runtime check` calls it.
   */
  async ping(timeoutMs = 5_000): Promise<void> {
    const res = await this.request('GET', '/_ping', { timeoutMs }, false);
    const header = res.headers['api-version'];
    const server = res.headers.server;
    if (typeof server === 'string') this.serverName = /libpod/i.test(server) ? 'Podman' : server.split('/')[0];
    if (typeof header === 'string' && /^\d+\.\d+$/.test(header)) this.apiVersion ??= header;
    drain(res);
  }

  /** `Podman` or `Docker`, from the ping's Server header (no /version round trip). */
  serverName: string | undefined;

  /** A JSON call; a 404 resolves with `status: 404` when `allow404`, else throws EngineHttpError. */
  async requestJson<T>(method: string, path: string, options: RequestOptions = {}, versioned = true): Promise<{ status: number; json: T }> {
    const res = await this.request(method, path, options, versioned);
    const text = await readAll(res);
    let json: unknown = undefined;
    if (text.trim()) {
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
    }
    return { status: res.statusCode ?? 0, json: json as T };
  }

  /** The response of a call, whose body the caller reads (pull and build progress). Throws on non-2xx. */
  async request(method: string, path: string, options: RequestOptions = {}, versioned = true): Promise<http.IncomingMessage> {
    const fullPath = await this.path(path, options.query, versioned);
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...options.headers };
      let payload: Buffer | Readable | undefined = options.raw;
      if (options.body !== undefined) {
        payload = Buffer.from(JSON.stringify(options.body));
        headers['Content-Type'] = 'application/json';
      }
      if (Buffer.isBuffer(payload)) headers['Content-Length'] = String(payload.length);
      const req = http.request({ socketPath: this.socketPath, agent: false, method, path: fullPath, headers: { Host: 'docker', ...headers } }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        void readAll(res).then((text) => reject(new EngineHttpError(status, engineMessage(text), fullPath)), reject);
      });
      const timeout = options.timeoutMs ?? 60_000;
      if (timeout > 0) req.setTimeout(timeout, () => req.destroy(new Error(`no answer from the container engine within ${timeout} ms`)));
      req.on('error', (err) => reject(this.connectionError(err)));
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else payload.pipe(req);
    });
  }

  /**
   * POST /containers/{id}/attach upgraded to a raw stream: stdin goes in, stdout/stderr come out
   * multiplexed (no TTY; see demux.ts). Attach before start so no early output is lost.
   */
  async attach(id: string): Promise<Duplex> {
    const fullPath = await this.path(`/containers/${encodeURIComponent(id)}/attach`, { stream: 1, stdin: 1, stdout: 1, stderr: 1 }, true);
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, agent: false, method: 'POST', path: fullPath, headers: { Host: 'docker', Connection: 'Upgrade', Upgrade: 'tcp' } });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      // Engines that do not upgrade answer 200 and stream on the response itself: refuse, because
      // such a stream cannot carry stdin.
      req.on('response', (res) => void readAll(res).then((text) => reject(new EngineHttpError(res.statusCode ?? 0, engineMessage(text) || 'the engine did not upgrade the attach connection', fullPath)), reject));
      req.on('error', (err) => reject(this.connectionError(err)));
      req.end();
    });
  }

  private async path(path: string, query: RequestOptions['query'], versioned: boolean): Promise<string> {
    let prefix = '';
    if (versioned) {
      if (!this.apiVersion) await this.version();
      prefix = `/v${this.apiVersion}`;
    }
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${prefix}${path}${qs ? `?${qs}` : ''}`;
  }

  private connectionError(err: NodeJS.ErrnoException): Error {
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES' || err.code === 'ENOTSOCK') {
      return new ThvError('runtime_unavailable', `the container engine at ${this.socketPath} is not reachable (${err.code})`, {
        cause: err,
        hint:
          err.code === 'EACCES'
            ? 'The socket refused this user: add it to the engine\'s group (e.g. `docker`), or point TOOLHIVE_DOCKER_SOCKET/TOOLHIVE_PODMAN_SOCKET at a socket you may use.'
            : 'Start the engine (Docker, `podman system service`, Colima…) and run `thv runtime check`.',
      });
    }
    return err;
  }
}

export function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

function drain(res: http.IncomingMessage): void {
  res.resume();
}

function engineMessage(text: string): string {
  try {
    const json = JSON.parse(text) as { message?: string; cause?: string };
    if (typeof json.message === 'string') return json.message.slice(0, 500);
  } catch {
    // not JSON: the text itself
  }
  return text.trim().slice(0, 500);
}
