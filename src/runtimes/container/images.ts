import type { IncomingMessage } from 'node:http';
import { ThvError } from '../../core/errors.js';
import { EngineHttpError, type EngineClient } from './engine.js';
import { tarArchive, type TarEntry } from './tar.js';

/** `name[:tag]` / `name@digest` → what /images/create wants. */
export function splitImageRef(ref: string): { fromImage: string; tag?: string } {
  if (ref.includes('@')) return { fromImage: ref };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { fromImage: ref, tag: 'latest' };
}

export async function imageExists(client: EngineClient, ref: string): Promise<boolean> {
  try {
    await client.requestJson('GET', `/images/${encodeURIComponent(ref)}/json`).then(({ status }) => status);
    return true;
  } catch (err) {
    if (err instanceof EngineHttpError && err.status === 404) return false;
    throw err;
  }
}

/** Reads an NDJSON progress stream; calls `onLine` per object; rejects with the first `error`. */
async function readProgress(res: IncomingMessage, onLine: (obj: Record<string, unknown>) => void): Promise<void> {
  let pending = '';
  let failure: string | undefined;
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line) continue;
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      const error = obj.error ?? (obj.errorDetail as { message?: string } | undefined)?.message;
      if (typeof error === 'string' && !failure) failure = error;
      else onLine(obj);
    }
  }
  if (failure) throw new Error(failure);
}

/**
 * Makes sure `ref` is present: an image that exists locally is never pulled (so local builds and
 * offline machines work); otherwise it is pulled with one progress line per layer and state.
 */
export async function ensureImage(client: EngineClient, ref: string, onProgress: (line: string) => void): Promise<'present' | 'pulled'> {
  if (await imageExists(client, ref)) return 'present';
  onProgress(`Pulling image ${ref}…`);
  const { fromImage, tag } = splitImageRef(ref);
  const lastStatus = new Map<string, string>();
  try {
    const res = await client.request('POST', '/images/create', { query: { fromImage, tag }, timeoutMs: 0 });
    await readProgress(res, (obj) => {
      const status = typeof obj.status === 'string' ? obj.status : undefined;
      if (!status) return;
      const id = typeof obj.id === 'string' ? obj.id : '';
      // Only changes of state, not every byte count: the progress stays readable in a log file.
      if (lastStatus.get(id) === status) return;
      lastStatus.set(id, status);
      onProgress(id ? `  ${id}: ${status}` : `  ${status}`);
    });
  } catch (err) {
    throw pullError(ref, err);
  }
  if (!(await imageExists(client, ref))) throw pullError(ref, new Error('the engine reported no error, but the image is not there'));
  onProgress(`Pulled ${ref}`);
  return 'pulled';
}

function pullError(ref: string, err: unknown): ThvError {
  const message = err instanceof EngineHttpError ? err.engineMessage : (err as Error).message;
  const unreachable = /connection refused|no such host|dial tcp|i\/o timeout|timeout|network is unreachable|TLS handshake|x509|lookup .* on/i.test(message);
  if (unreachable) {
    return new ThvError('upstream_unavailable', `image ${ref} is not on this machine and its registry is unreachable: ${message}`, {
      cause: err,
      hint: 'Check the network or the registry name, or build/load the image locally first (it is then used without pulling).',
    });
  }
  return new ThvError('not_found', `image ${ref} was not found: ${message}`, {
    cause: err,
    hint: 'Check the image name and tag (and `thv registry` for the server\'s image); private registries need a login in the engine.',
  });
}

export interface BuildRequest {
  tag: string;
  dockerfile: string;
  /** More files of the context, next to the Dockerfile. */
  files?: TarEntry[];
  labels?: Record<string, string>;
}

/** POST /build with a tar context; build output goes to `onProgress` line by line. */
export async function buildImage(client: EngineClient, request: BuildRequest, onProgress: (line: string) => void): Promise<string> {
  const context = tarArchive([{ name: 'Dockerfile', content: request.dockerfile }, ...(request.files ?? [])]);
  let partial = '';
  try {
    const res = await client.request('POST', '/build', {
      query: { t: request.tag, dockerfile: 'Dockerfile', rm: 1, forcerm: 1, labels: request.labels ? JSON.stringify(request.labels) : undefined },
      raw: context,
      headers: { 'Content-Type': 'application/x-tar' },
      timeoutMs: 0,
    });
    await readProgress(res, (obj) => {
      if (typeof obj.stream !== 'string') return;
      partial += obj.stream;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onProgress(`  ${line.trimEnd()}`);
    });
  } catch (err) {
    if (partial.trim()) onProgress(`  ${partial.trimEnd()}`);
    const message = err instanceof EngineHttpError ? err.engineMessage : (err as Error).message;
    throw new ThvError('workload_failed', `building image ${request.tag} failed: ${message}`, {
      cause: err,
      hint: 'The builder base image must be present or pullable; set another with --runtime-image or `thv config set-build-image`.',
    });
  }
  if (!(await imageExists(client, request.tag))) throw new ThvError('workload_failed', `building image ${request.tag} finished without an image`);
  return request.tag;
}
