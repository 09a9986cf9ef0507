import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock, writeJsonAtomic } from '../core/files.js';
import type { Paths } from '../core/paths.js';

/**
 * `$XDG_STATE_HOME/toolhive/server/server.json`: how the owner's own tools (the CLI, the dashboard)
 * find and authenticate to a running `thv serve` (docs/api.md#who-may-call-it). Written 0600 in a
 * 0700 folder; it holds the bearer token, so nothing else may read it.
 */
export interface ServerDiscovery {
  /** `http://127.0.0.1:8080`, or `unix://<path>` for a socket server. */
  url: string;
  /** The socket path, or '' for a TCP server. */
  socket: string;
  pid: number;
  started_at: string;
  /** The bearer token a TCP server requires; '' for a socket server (the socket's mode is the check). */
  token: string;
}

export function discoveryFile(paths: Paths): string {
  return join(paths.stateDir, 'server', 'server.json');
}

export async function writeDiscovery(paths: Paths, record: ServerDiscovery): Promise<void> {
  const file = discoveryFile(paths);
  await withFileLock(file, () => writeJsonAtomic(file, record));
}

/** Removes the file only when it still describes this process (a newer server may have replaced it). */
export async function removeDiscovery(paths: Paths, pid = process.pid): Promise<void> {
  const file = discoveryFile(paths);
  await withFileLock(file, async () => {
    const current = await readDiscovery(paths);
    if (current?.pid !== pid) return;
    await unlink(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }).catch(() => undefined);
}

/** The running server as recorded, or undefined when there is none (or the file is unreadable). */
export async function readDiscovery(paths: Paths): Promise<ServerDiscovery | undefined> {
  let text: string;
  try {
    text = await readFile(discoveryFile(paths), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<ServerDiscovery>;
    if (typeof value.url !== 'string' || typeof value.pid !== 'number') return undefined;
    return {
      url: value.url,
      socket: typeof value.socket === 'string' ? value.socket : '',
      pid: value.pid,
      started_at: typeof value.started_at === 'string' ? value.started_at : '',
      token: typeof value.token === 'string' ? value.token : '',
    };
  } catch {
    return undefined;
  }
}

/**
 * One request to the running server as its owner: over the socket when it has one, else over TCP
 * with the bearer token. Used by the CLI and the dashboard so they never need the token on argv.
 */
export async function requestRunningServer(
  paths: Paths,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const server = await readDiscovery(paths);
  if (!server) throw new Error('no thv serve is running');
  const { request } = await import('node:http');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { host: 'localhost' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  if (server.token) headers.authorization = `Bearer ${server.token}`;
  const target = server.socket ? { socketPath: server.socket, path } : { ...splitUrl(server.url, path) };
  if (!server.socket) headers.host = new URL(server.url).host;
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function splitUrl(base: string, path: string): { hostname: string; port: number; path: string } {
  const url = new URL(base);
  return { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port), path };
}
