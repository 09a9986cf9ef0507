import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';

export const EVENTS_PATH = '/api/v1beta/events';
/** How often the list is compared when no file event arrived (a lost watch event, NFS). */
const POLL_MS = 2_000;
/** A comment line now and then keeps proxies and idle timeouts from closing a quiet stream. */
const KEEPALIVE_MS = 25_000;

/**
 * `GET /api/v1beta/events`: a server-sent event stream (`event: workloads`, data = the full list
 * as `GET /workloads?all=true` returns it) sent once on connect and again whenever a workload's
 * status changes. Supervisors are separate processes that write status files, so the stream
 * watches the status folder and re-reads the list on any change, with a slow poll as a safety net;
 * nothing runs while nobody listens. The dashboard falls back to polling when the stream fails.
 */
export function registerEventRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const workloads = deps.app.workloads();
  const listeners = new Set<(data: string) => void>();
  let last = '';
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let pending: Promise<void> | undefined;
  let again = false;

  const refresh = (): Promise<void> => {
    if (pending) {
      again = true;
      return pending;
    }
    pending = (async () => {
      do {
        again = false;
        const data = JSON.stringify({ workloads: await (await workloads).list({ all: true }).catch(() => []) });
        if (data !== last) {
          last = data;
          for (const send of listeners) send(data);
        }
      } while (again);
    })().finally(() => (pending = undefined));
    return pending;
  };

  const startWatching = () => {
    try {
      mkdirSync(deps.paths.statusesDir, { recursive: true, mode: 0o700 });
      watcher = watch(deps.paths.statusesDir, () => void refresh());
      watcher.on('error', () => undefined);
    } catch {
      watcher = undefined; // the poll below still notices changes
    }
    poll = setInterval(() => void refresh(), POLL_MS);
    poll.unref();
  };
  const stopWatching = () => {
    watcher?.close();
    watcher = undefined;
    if (poll) clearInterval(poll);
    poll = undefined;
    last = '';
  };
  app.addHook('onClose', async () => stopWatching());

  app.get(EVENTS_PATH, { schema: { tags: ['events'], summary: 'Server-sent events: the workload list whenever a status changes' } }, async (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    const send = (data: string) => res.write(`event: workloads\ndata: ${data}\n\n`);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    if (listeners.size === 0) startWatching();
    listeners.add(send);
    if (last) send(last);
    void refresh();
    request.raw.on('close', () => {
      clearInterval(keepalive);
      listeners.delete(send);
      if (listeners.size === 0) stopWatching();
    });
  });
}
