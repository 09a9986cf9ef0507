import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import type { Workload } from './types.js';

/**
 * The workload list, kept current by the API's event stream; when the stream fails (an old
 * server, a proxy that buffers), a slow poll takes over (docs/dashboard.md#live-status).
 */
export function useWorkloads(): { workloads: Workload[] | undefined; live: 'stream' | 'poll'; refresh: () => void } {
  const [workloads, setWorkloads] = useState<Workload[] | undefined>();
  const [live, setLive] = useState<'stream' | 'poll'>('stream');
  const refresh = () => void get<{ workloads: Workload[] }>('/api/v1beta/workloads?all=true').then((d) => setWorkloads(d.workloads), () => undefined);
  useEffect(() => {
    let timer: number | undefined;
    const source = new EventSource('/api/v1beta/events');
    source.addEventListener('workloads', (e) => setWorkloads((JSON.parse((e as MessageEvent<string>).data) as { workloads: Workload[] }).workloads));
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      setLive('poll');
      refresh();
      timer = setInterval(refresh, 3_000) as unknown as number;
    };
    return () => {
      source.close();
      if (timer !== undefined) clearInterval(timer);
    };
  }, []);
  return { workloads, live, refresh };
}
